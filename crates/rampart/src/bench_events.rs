//! The sample events `rampart bench ingest` sends (and `bench watch`
//! matches): realistic, varied and reproducible from their index.

/// The `@timestamp` of sample event `i` (epoch ms).
pub fn sample_timestamp(i: usize, base_ms: i64) -> i64 {
    base_ms + (i as i64 % 600_000)
}

/// The source address of sample event `i`: hundreds of thousands of distinct ones.
pub fn sample_source_ip(i: usize) -> String {
    format!(
        "{}.{}.{}.{}",
        10 + i % 200,
        (i / 7) % 256,
        (i / 13) % 256,
        i % 251
    )
}

/// A realistic event of about 300 bytes: an sshd failure, a firewall
/// drop or a web request, with varied addresses and users.
pub fn sample_event(i: usize, base_ms: i64) -> String {
    let ts = sample_timestamp(i, base_ms);
    let src = sample_source_ip(i);
    match i % 3 {
        0 => format!(
            r#"{{"@timestamp":{ts},"event":{{"category":"authentication","action":"ssh_login","outcome":"failure","severity":3}},"source":{{"ip":"{src}","port":{}}},"destination":{{"ip":"192.0.2.10","port":22}},"host":{{"name":"bastion-{}"}},"user":{{"name":"user{}"}},"message":"Failed password for user{} from {src} port {} ssh2"}}"#,
            40000 + i % 20000,
            i % 4,
            i % 97,
            i % 97,
            40000 + i % 20000
        ),
        1 => format!(
            r#"{{"@timestamp":{ts},"event":{{"category":"network","action":"firewall_drop","outcome":"failure","severity":2}},"source":{{"ip":"{src}","port":{}}},"destination":{{"ip":"198.51.100.{}","port":{}}},"host":{{"name":"fw-{}"}},"network":{{"transport":"tcp"}},"message":"DROP IN=eth0 SRC={src} DPT={}"}}"#,
            1024 + i % 60000,
            i % 254,
            [22, 80, 443, 3389, 8080][i % 5],
            i % 2,
            [22, 80, 443, 3389, 8080][i % 5]
        ),
        _ => format!(
            r#"{{"@timestamp":{ts},"event":{{"category":"web","action":"http_request","outcome":"success","severity":1}},"source":{{"ip":"{src}"}},"host":{{"name":"web-{}"}},"url":{{"full":"https://shop.example.com/items/{}?ref=mail"}},"http":{{"response":{{"status_code":200}}}},"user_agent":{{"original":"Mozilla/5.0"}},"message":"GET /items/{}"}}"#,
            i % 8,
            i % 10_000,
            i % 10_000
        ),
    }
}
