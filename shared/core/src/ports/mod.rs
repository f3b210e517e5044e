//! The ports: the narrow interfaces the domain needs from the outside world.

pub mod blob;
pub mod clock;
pub mod http;
pub mod ids;
pub mod limits;
pub mod messaging;
pub mod outage;
pub mod payments;
pub mod queue;
pub mod seal;
pub mod sockets;
pub mod table;
pub mod templates;
pub mod transcription;
pub mod webhooks;

pub use blob::{Blob, BlobError, StoredBlob};
pub use clock::{Clock, ManualClock, SystemClock};
pub use http::{HttpCalls, HttpError, HttpRequest, HttpResponse};
pub use ids::{Ids, UlidIds};
pub use limits::RateLimiter;
pub use messaging::{
    ButtonValue, ButtonValueKind, ChannelAccess, HeaderValue, Messaging, NamedValue, OutboundChoice,
    OutboundContent, OutboundRequest, ProviderError, TemplateValues,
};
pub use outage::Outage;
pub use payments::{
    Charge, GatewayAccess, GatewayError, NewCharge, NewCustomer, PaymentEvent, PaymentGateway, PixCode,
};
pub use queue::{OutgoingMessage, Queue, QueueError, QueueSpec, ReceivedMessage};
pub use seal::{SealError, Sealer, StoredSecret};
pub use sockets::{SocketError, Sockets};
pub use table::{
    AttributeValue, Cmp, Condition, Index, Item, Key, Page, Query, SortCondition, Table, TableError,
    TransactItem, UpdateOp,
};
pub use templates::{CatalogAccess, Created, RemoteTemplate, TemplateCatalog};
pub use transcription::{Audio, TranscribeError, Transcriber};
pub use webhooks::{WebhookAnswer, WebhookMessage, WebhookSender};
