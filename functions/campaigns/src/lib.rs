//! The `campaigns` function: the `campaigns` queue's jobs — a campaign's start and the hops
//! of its fan-out, the allowed hours reopening, the end of its collecting window, and the
//! sequences' steps and bulk enrolments. Each job runs in `atende_core::campaigns`.

use atende_core::campaigns::{fanout, lifecycle, sequences};
use atende_core::jobs::CampaignJob;
use atende_runtime::AppContext;
use atende_runtime::function::QueueFunction;

/// The `campaigns` function: standard `campaigns` queue, 5 jobs per invocation.
pub fn function() -> QueueFunction {
    QueueFunction::new("campaigns", atende_core::queues::CAMPAIGNS, 5, |ctx, job| async move {
        handle(&ctx, job).await
    })
}

pub async fn handle(ctx: &AppContext, job: CampaignJob) -> anyhow::Result<()> {
    let deps = &ctx.deps;
    match job {
        CampaignJob::Start { account_id, campaign_id } => {
            lifecycle::start_due(deps, &account_id, &campaign_id).await?
        }
        CampaignJob::Step { account_id, campaign_id, seq } => {
            fanout::step(deps, &account_id, &campaign_id, seq).await?
        }
        CampaignJob::Resume { account_id, campaign_id } => {
            fanout::resume_window(deps, &account_id, &campaign_id).await?
        }
        CampaignJob::Finish { account_id, campaign_id } => {
            fanout::finish(deps, &account_id, &campaign_id).await?
        }
        CampaignJob::SequenceStep { account_id, sequence_id, contact_id, epoch, step, due_ms } => {
            sequences::fire(deps, &account_id, &sequence_id, &contact_id, epoch, step, due_ms).await?
        }
        CampaignJob::EnrolTag { account_id, sequence_id, tag_id, cursor } => {
            sequences::enrol_tag(deps, &account_id, &sequence_id, &tag_id, cursor).await?
        }
        CampaignJob::EnrolContact { account_id, sequence_id, contact_id } => {
            sequences::enrol_contact(deps, &account_id, &sequence_id, &contact_id).await?
        }
        CampaignJob::Unenrol { account_id, sequence_id, contact_id } => {
            sequences::unenrol_contact(deps, &account_id, &sequence_id, &contact_id).await?
        }
    }
    Ok(())
}
