//! Audio transcription (PRODUCT.md §11): when the account enables it, every received
//! audio or voice message gets a transcript, `processing → done (text) | failed (reason)`.
//!
//! The message reaches agents first, untouched: the reaction to its arrival only marks it
//! `processing` and queues a job; the `transcription` function fetches the stored audio,
//! calls the provider and writes the outcome. A job for a message already done or failed
//! returns at once, so a redelivery never calls the provider for it again. Transient
//! failures (429, 5xx, timeouts) are retried with backoff up to [`MAX_ATTEMPTS`] calls;
//! a refusal (4xx), a file over the provider's limit, or the last failure ends `failed`
//! with the reason: never stuck in `processing`.

use crate::accounts::teams::load_account;
use crate::conversations::messages;
use crate::conversations::model::{Message, Transcription, TranscriptionStatus};
use crate::deps::{Deps, Reaction};
use crate::error::{ServiceError, ServiceResult};
use crate::events::DomainEvent;
use crate::jobs::{TranscriptionJob, enqueue_transcription};
use crate::keys;
use crate::ports::{Audio, Condition, TableError, TranscribeError, UpdateOp};

/// Calls to the provider for one message before it fails.
pub const MAX_ATTEMPTS: u32 = 5;
/// The language voice notes are transcribed in.
pub const LANGUAGE: &str = "pt";

fn backoff(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_secs(5 * 3u64.pow(attempt.saturating_sub(1).min(4)))
}

/// Writes `new` as the transcription of `m` if the message is still the version read
/// (then `m` is updated too). Whether it was written.
async fn write(deps: &Deps, m: &mut Message, new: Transcription) -> ServiceResult<bool> {
    let ops = vec![
        UpdateOp::Set("transcription".into(), serde_dynamo::to_attribute_value(&new)?),
        UpdateOp::Add("version".into(), 1),
    ];
    match deps
        .table
        .update(&keys::message(&m.account_id, &m.id), ops, Some(Condition::version_is(m.version)))
        .await
    {
        Ok(_) => {
            m.version += 1;
            m.transcription = Some(new);
            Ok(true)
        }
        Err(TableError::ConditionFailed) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Ends a transcription that is still processing with `outcome` (the message may change
/// meanwhile, a reaction to it say: read again and retry).
async fn finish(deps: &Deps, account: &str, id: &str, outcome: Result<String, String>) -> ServiceResult<()> {
    for _ in 0..8 {
        let mut m = messages::load(deps, account, id).await?;
        let Some(t) = m.transcription.clone().filter(|t| t.status == TranscriptionStatus::Processing) else {
            return Ok(());
        };
        let (status, text, error) = match &outcome {
            Ok(text) => (TranscriptionStatus::Done, Some(text.clone()), None),
            Err(reason) => (TranscriptionStatus::Failed, None, Some(reason.clone())),
        };
        let new = Transcription {
            status,
            text,
            error,
            provider_calls: t.provider_calls,
            updated_at: deps.clock.now(),
        };
        if write(deps, &mut m, new).await? {
            return Ok(());
        }
    }
    Err(ServiceError::conflict("the message kept changing while its transcript was written"))
}

/// Marks a received audio message `processing` and queues its transcription, when the
/// account transcribes. Idempotent: a message already marked is queued again only while
/// it is still processing (a crash between the mark and the queue), and the job itself
/// skips a message that is done.
pub struct TranscribeVoiceNotes;

#[async_trait::async_trait]
impl Reaction for TranscribeVoiceNotes {
    fn name(&self) -> &'static str {
        "transcription.queue"
    }

    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()> {
        let DomainEvent::MessageReceived { account_id, message_id, audio: true, .. } = event else {
            return Ok(());
        };
        if !load_account(deps, account_id).await?.transcription_enabled {
            return Ok(());
        }
        for _ in 0..8 {
            let mut m = messages::load(deps, account_id, message_id).await?;
            match &m.transcription {
                Some(t) if t.status != TranscriptionStatus::Processing => return Ok(()),
                Some(_) => break,
                None => {
                    let processing = Transcription {
                        status: TranscriptionStatus::Processing,
                        text: None,
                        error: None,
                        provider_calls: 0,
                        updated_at: deps.clock.now(),
                    };
                    if write(deps, &mut m, processing).await? {
                        break;
                    }
                }
            }
        }
        let job = TranscriptionJob { account_id: account_id.clone(), message_id: message_id.clone() };
        enqueue_transcription(deps, &job, std::time::Duration::ZERO).await
    }
}

/// The `transcription` job: one call to the provider for a message still processing.
pub async fn run(deps: &Deps, job: &TranscriptionJob) -> ServiceResult<()> {
    let (account, id) = (job.account_id.as_str(), job.message_id.as_str());
    let mut m = match messages::load(deps, account, id).await {
        Ok(m) => m,
        Err(ServiceError::NotFound(_)) => return Ok(()), // erased meanwhile
        Err(e) => return Err(e),
    };
    let Some(current) = m.transcription.clone().filter(|t| t.status == TranscriptionStatus::Processing)
    else {
        return Ok(()); // done or failed: the provider is never called again for it
    };
    if !deps.transcriber.configured() {
        return finish(deps, account, id, Err("no speech-to-text provider is configured".into())).await;
    }
    let media = m.media.clone().unwrap_or_default();
    let Some(blob_key) = media.blob_key.clone() else {
        let why = media.fetch_error.unwrap_or_else(|| "it was not downloaded".into());
        return finish(deps, account, id, Err(format!("the audio is not available: {why}"))).await;
    };
    let Some(stored) = deps.blob.get(&blob_key).await? else {
        return finish(deps, account, id, Err("the audio is no longer stored".into())).await;
    };
    let limit = deps.transcriber.max_bytes();
    if stored.bytes.len() > limit {
        let mb = limit / (1024 * 1024);
        return finish(
            deps,
            account,
            id,
            Err(format!("the file is larger than the provider's limit of {mb} MB")),
        )
        .await;
    }
    // Claim this call: a delivery running at the same moment loses the version condition
    // and leaves the call to this one (its job is retried, and finds the outcome).
    let attempts = current.provider_calls + 1;
    let claimed = Transcription { provider_calls: attempts, updated_at: deps.clock.now(), ..current };
    if !write(deps, &mut m, claimed).await? {
        return Err(ServiceError::conflict("the message changed while its transcription was claimed"));
    }
    let mime = media.mime_type.clone().unwrap_or_else(|| stored.content_type.clone());
    let audio = Audio { filename: filename(&mime, media.filename.as_deref()), mime, bytes: stored.bytes };
    match deps.transcriber.transcribe(&audio, LANGUAGE).await {
        Ok(text) => finish(deps, account, id, Ok(text)).await,
        Err(TranscribeError::Outage(outage)) if attempts < MAX_ATTEMPTS => {
            tracing::warn!(message_id = %id, attempt = attempts, error = %outage, "transcription retried");
            let wait = outage.wait(backoff(attempts));
            enqueue_transcription(deps, job, wait.min(std::time::Duration::from_secs(900))).await
        }
        Err(TranscribeError::Outage(outage)) => {
            finish(
                deps,
                account,
                id,
                Err(format!("the provider failed {attempts} times; the last: {outage}")),
            )
            .await
        }
        Err(e) => finish(deps, account, id, Err(e.to_string())).await,
    }
}

/// A file name whose extension names the format (providers read the format from it).
fn filename(mime: &str, given: Option<&str>) -> String {
    if let Some(name) = given.filter(|n| n.contains('.')) {
        return name.to_owned();
    }
    let base = mime.split(';').next().unwrap_or("").trim();
    let ext = match base {
        "audio/ogg" | "audio/opus" => "ogg",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" => "m4a",
        "audio/aac" => "aac",
        "audio/amr" => "amr",
        "audio/wav" | "audio/x-wav" => "wav",
        "audio/webm" => "webm",
        _ => "ogg",
    };
    format!("audio.{ext}")
}

#[cfg(test)]
mod tests {
    use super::filename;

    #[test]
    fn the_file_name_carries_the_format_whatsapp_gave() {
        assert_eq!(filename("audio/ogg; codecs=opus", None), "audio.ogg");
        assert_eq!(filename("audio/mpeg", None), "audio.mp3");
        assert_eq!(filename("audio/ogg", Some("nota.ogg")), "nota.ogg");
        assert_eq!(filename("application/octet-stream", None), "audio.ogg");
    }
}
