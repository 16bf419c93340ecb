//! Rate limit state in Redis, shared by every node: one Lua script per
//! check reads the key's TAT, takes the time from Redis itself (so nodes'
//! clocks do not matter), applies GCRA and stores the new TAT with an
//! expiry. Times are microseconds there (Lua numbers are doubles).

use rampart_core::rate_limit::{gcra, Decision, Mode, Quota};
use redis::aio::ConnectionManager;

use super::Policy;

const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local charge = ARGV[4] == '1'
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local cost_us = interval * cost
local new_tat = tat + cost_us
local fits = (new_tat - now) <= tolerance
local idle_oversized = cost_us > tolerance and tat == now
if charge or fits or idle_oversized then
  local allowed = 1
  if charge and (tat - now) > tolerance then allowed = 0 end
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
  return {allowed, string.format('%.0f', tat), string.format('%.0f', now)}
end
return {0, string.format('%.0f', tat), string.format('%.0f', now)}
";

/// The shared store: a connection manager (reconnects by itself) and the
/// script (sent once, then called by its hash).
#[derive(Clone)]
pub struct RedisLimits {
    connection: ConnectionManager,
    script: redis::Script,
    prefix: String,
}

impl RedisLimits {
    /// Connects to `url` (`redis://` or `rediss://`); keys start with
    /// `prefix` (tests give each run its own).
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisLimits, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client).await?;
        Ok(RedisLimits {
            connection,
            script: redis::Script::new(SCRIPT),
            prefix: prefix.to_owned(),
        })
    }

    pub async fn apply(
        &self,
        policy: Policy,
        key: &str,
        quota: &Quota,
        cost: u64,
        mode: Mode,
    ) -> Result<Decision, redis::RedisError> {
        let interval_us = quota.interval_ns() as f64 / 1000.0;
        let tolerance_us = quota.tolerance_ns() as f64 / 1000.0;
        let mut connection = self.connection.clone();
        let (allowed, tat_us, now_us): (i64, String, String) = self
            .script
            .key(format!("{}:{}:{key}", self.prefix, policy.name()))
            .arg(interval_us)
            .arg(tolerance_us)
            .arg(cost)
            .arg(if mode == Mode::Charge { "1" } else { "0" })
            .invoke_async(&mut connection)
            .await?;
        let parse = |text: &str| text.parse::<i64>().unwrap_or(0).saturating_mul(1000);
        let (tat, now) = (parse(&tat_us), parse(&now_us));
        // The same arithmetic gives the headers' figures; Redis decided.
        let (mut decision, _) = gcra(Some(tat), now, quota, cost, mode);
        decision.allowed = allowed == 1;
        if decision.allowed {
            decision.retry_after_secs = 0;
        } else {
            decision.retry_after_secs = decision.retry_after_secs.max(1);
        }
        Ok(decision)
    }
}
