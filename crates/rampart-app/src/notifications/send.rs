//! Sending: e-mail over SMTP (lettre; plain, STARTTLS or TLS) and JSON
//! POSTs to webhooks (reqwest through the SSRF guard). Failures come back
//! as retryable (the other end is down or busy) or permanent (it refused).

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rampart_core::notification::{Message, SmtpSecurity, SmtpServer};

use super::ssrf::{self, TargetPolicy};
use crate::jobs::handler::JobFailure;

/// Sends e-mail: through an organisation's own server (checked against the
/// SSRF policy, since users configure it) or the platform's (the
/// operator's, trusted).
pub struct Mailer {
    pub policy: TargetPolicy,
    pub platform: Option<SmtpServer>,
    pub timeout: Duration,
}

impl Mailer {
    /// Whether e-mail to people (not channels) can be sent at all.
    pub fn has_platform_server(&self) -> bool {
        self.platform.is_some()
    }

    /// The endpoint a circuit breaker keys: the server used.
    pub fn endpoint(&self, own: Option<&SmtpServer>) -> String {
        match own.or(self.platform.as_ref()) {
            Some(s) => format!("smtp://{}:{}", s.host, s.port),
            None => "smtp://unconfigured".into(),
        }
    }

    pub async fn send(
        &self,
        own: Option<&SmtpServer>,
        to: &[String],
        message: &Message,
    ) -> Result<(), JobFailure> {
        let (server, checked) = match (own, &self.platform) {
            (Some(own), _) => (own, true),
            (None, Some(platform)) => (platform, false),
            (None, None) => {
                return Err(JobFailure::Permanent(
                    "no SMTP server: configure [notifications.smtp] or the channel's own".into(),
                ))
            }
        };
        let email = build(server, to, message)?;
        // A user's server is connected to at an address checked here, so
        // that its name cannot resolve elsewhere at connect time.
        let connect_to = if checked {
            let addrs = self
                .policy
                .resolve(&server.host, server.port)
                .await
                .map_err(JobFailure::Permanent)?;
            addrs
                .first()
                .map(|a| a.ip().to_string())
                .unwrap_or_else(|| server.host.clone())
        } else {
            server.host.clone()
        };
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|e| JobFailure::Permanent(format!("TLS set-up for {host}: {e}")))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(connect_to)
            .port(server.port)
            .timeout(Some(self.timeout));
        builder = match server.security {
            SmtpSecurity::None => builder.tls(Tls::None),
            SmtpSecurity::Starttls => builder.tls(Tls::Required(tls(&server.host)?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls(&server.host)?)),
        };
        if let Some(user) = &server.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                server.password.clone().unwrap_or_default(),
            ));
        }
        let transport = builder.build();
        match transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(JobFailure::Permanent(format!(
                "the SMTP server refused the message: {e}"
            ))),
            Err(e) => Err(JobFailure::Retry(format!("SMTP: {e}"))),
        }
    }
}

fn build(
    server: &SmtpServer,
    to: &[String],
    message: &Message,
) -> Result<lettre::Message, JobFailure> {
    let mailbox = |address: &str| {
        address
            .parse::<Mailbox>()
            .map_err(|e| JobFailure::Permanent(format!("{address:?} is not an address: {e}")))
    };
    let mut builder = lettre::Message::builder()
        .from(mailbox(&server.from)?)
        .subject(message.subject.clone());
    for address in to {
        builder = builder.to(mailbox(address)?);
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(message.text.clone());
    let body = match &message.html {
        Some(html) => MultiPart::alternative().singlepart(text).singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html.clone()),
        ),
        None => MultiPart::mixed().singlepart(text),
    };
    builder
        .multipart(body)
        .map_err(|e| JobFailure::Permanent(format!("cannot build the e-mail: {e}")))
}

/// Posts JSON to webhooks.
pub struct Poster {
    policy: TargetPolicy,
    client: reqwest::Client,
}

impl Poster {
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Result<Poster, String> {
        let client = ssrf::http_client(policy, timeout).map_err(|e| e.to_string())?;
        Ok(Poster { policy, client })
    }

    /// The endpoint a circuit breaker keys: the URL's origin.
    pub fn endpoint(url: &str) -> String {
        reqwest::Url::parse(url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| url.to_owned())
    }

    /// POSTs `body` with `headers`; 2xx is delivered, 408, 429 and 5xx (and
    /// no answer) are worth retrying, any other status is a refusal.
    pub async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<(), JobFailure> {
        let url =
            reqwest::Url::parse(url).map_err(|e| JobFailure::Permanent(format!("bad URL: {e}")))?;
        ssrf::check_url(self.policy, &url).map_err(JobFailure::Permanent)?;
        let mut request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| {
            // reqwest hides the cause (a refused address, a timeout) in
            // its source chain.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            if text.contains("private targets are not allowed") || e.is_redirect() {
                JobFailure::Permanent(text)
            } else {
                JobFailure::Retry(text)
            }
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let detail = format!("the receiver answered {status}");
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(JobFailure::Retry(detail))
        } else {
            Err(JobFailure::Permanent(detail))
        }
    }
}
