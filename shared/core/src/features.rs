//! The one registration of the features' reactions to domain events (see
//! [`crate::events`]). A new reaction is written in its feature and added here; the use
//! case that records the event does not change. Interceptors of customer messages are
//! registered here too.

use crate::campaigns::replies::{BulkStatuses, CampaignReplies, PauseOnQualityDrop, PauseOnTemplateHold};
use crate::conversations::receipts::ReadReceiptOnAssume;
use crate::csat::{SurveyAnswers, SurveyOnCompletion};
use crate::deps::Reactions;
use crate::flows::triggers::{CompletionAnswers, FlowTriggers};
use crate::live::LiveFeed;
use crate::reports::ReportCounters;
use crate::routing::RouteNewSessions;
use crate::time::keep_alive::ArmOnCustomerMessage;
use crate::time::out_of_hours::OutOfHoursReply;
use crate::transcription::TranscribeVoiceNotes;
use crate::webhooks::PublishToEndpoints;
use std::sync::Arc;

/// Every reaction, in the order they run for one event.
pub fn reactions() -> Reactions {
    Reactions::new(vec![
        // Before routing: a reply to a campaign moves its new session to the campaign's team.
        Arc::new(CampaignReplies),
        // Before routing: a session a flow takes is routed when the flow hands it over.
        Arc::new(FlowTriggers),
        Arc::new(RouteNewSessions),
        Arc::new(ArmOnCustomerMessage),
        Arc::new(OutOfHoursReply),
        Arc::new(ReadReceiptOnAssume),
        Arc::new(SurveyOnCompletion),
        Arc::new(BulkStatuses),
        Arc::new(PauseOnTemplateHold),
        Arc::new(PauseOnQualityDrop),
        Arc::new(TranscribeVoiceNotes),
        Arc::new(ReportCounters),
        // After the features that move the session: the stream tells who may see it now.
        Arc::new(LiveFeed),
        // Last: integrators hear of what the features above did with the event.
        Arc::new(PublishToEndpoints),
    ])
    .with_interceptors(vec![Arc::new(SurveyAnswers), Arc::new(CompletionAnswers)])
}
