//! Mail Lockstep sends (password-reset links), through the operator's SMTP
//! relay (`--smtp-url`), with lettre over tokio and rustls.

use anyhow::{Context, Result};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// A connection (pool) to the SMTP relay and the sender's address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    // The transport holds the relay's credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// A mailer for the relay at `smtp_url` (`smtp://`, `smtps://`, with
    /// `?tls=required` for STARTTLS), sending as `from`. Connects lazily.
    pub fn new(smtp_url: &str, from: &str) -> Result<Self> {
        crate::db::use_ring_for_tls();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .context("--smtp-url is not an SMTP URL like smtp://host:25 or smtps://user:pass@host")?
            .build();
        let from = from.parse().with_context(|| {
            format!("--mail-from {from:?} is not an address like Lockstep <lockstep@example.com>")
        })?;
        Ok(Self { transport, from })
    }

    /// Sends a plain-text message to `to`.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<()> {
        let to: Mailbox = to
            .parse()
            .with_context(|| format!("cannot send mail to {to:?}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .context("cannot build the message")?;
        self.transport
            .send(message)
            .await
            .context("the SMTP relay did not take the message")?;
        Ok(())
    }
}
