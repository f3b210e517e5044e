//! What a use case runs with: the ports, built by `atende-runtime` for AWS or embedded,
//! and the reactions to domain events, registered once in [`crate::features::reactions`].

use crate::error::ServiceResult;
use crate::events::DomainEvent;
use crate::ports::{
    Blob, Clock, HttpCalls, Ids, Messaging, PaymentGateway, Queue, RateLimiter, Sealer, Table,
    TemplateCatalog, Transcriber, WebhookSender,
};
use async_trait::async_trait;
use std::sync::Arc;

#[derive(Clone)]
pub struct Deps {
    pub table: Arc<dyn Table>,
    pub queue: Arc<dyn Queue>,
    pub blob: Arc<dyn Blob>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn Ids>,
    pub messaging: Arc<dyn Messaging>,
    /// Templates at the provider (created, edited, deleted, listed).
    pub templates: Arc<dyn TemplateCatalog>,
    /// Calls to URLs users give (flows' HTTP nodes), guarded against internal targets.
    pub http: Arc<dyn HttpCalls>,
    /// Charges at the payment provider (Asaas).
    pub payments: Arc<dyn PaymentGateway>,
    /// Speech to text for voice notes.
    pub transcriber: Arc<dyn Transcriber>,
    /// Signed deliveries to integrators' endpoints (outbound webhooks).
    pub webhooks: Arc<dyn WebhookSender>,
    /// Seals secrets (channel tokens) before they are stored.
    pub sealer: Arc<dyn Sealer>,
    /// The request buckets of the API's limits, and the limits (deployment settings).
    pub limiter: Arc<dyn RateLimiter>,
    pub limits: crate::limits::api_limits::ApiLimits,
    pub reactions: Arc<Reactions>,
    /// Configuration read on the hot paths, cached per process (see [`crate::cache`]).
    pub config: Arc<crate::cache::ConfigCache>,
}

/// A feature's reaction to domain events. It may be called more than once for one event
/// (a redelivered job publishes its events again), so it must be idempotent in effect.
#[async_trait]
pub trait Reaction: Send + Sync {
    /// For logs.
    fn name(&self) -> &'static str;
    async fn on(&self, deps: &Deps, event: &DomainEvent) -> ServiceResult<()>;
}

/// A feature that may consume a customer's message before any session takes it (it
/// answers a question the feature asked). Called again for a redelivered message, so it
/// must recognise one it already consumed.
#[async_trait]
pub trait Interceptor: Send + Sync {
    fn name(&self) -> &'static str;
    /// Whether the feature consumed the message.
    async fn take(&self, deps: &Deps, message: &crate::events::CustomerMessage) -> ServiceResult<bool>;
}

/// Every registered reaction, called in registration order, and the interceptors of
/// customer messages.
#[derive(Default)]
pub struct Reactions(Vec<Arc<dyn Reaction>>, Vec<Arc<dyn Interceptor>>);

impl Reactions {
    pub fn new(reactions: Vec<Arc<dyn Reaction>>) -> Self {
        Self(reactions, Vec::new())
    }

    pub fn with_interceptors(mut self, interceptors: Vec<Arc<dyn Interceptor>>) -> Self {
        self.1 = interceptors;
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|r| r.name()).collect()
    }

    pub fn into_vec(self) -> Vec<Arc<dyn Reaction>> {
        self.0
    }
}

impl Deps {
    /// A configuration item, through the per-process cache (see [`crate::cache`]).
    pub async fn configuration(&self, key: &crate::ports::Key) -> ServiceResult<Option<crate::ports::Item>> {
        Ok(self.config.get(self.table.as_ref(), self.clock.as_ref(), key).await?)
    }

    /// Whether an interceptor consumed the customer's message (the first that does wins).
    pub async fn intercept(&self, message: &crate::events::CustomerMessage) -> ServiceResult<bool> {
        for interceptor in &self.reactions.1 {
            if interceptor.take(self, message).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Runs every reaction to every event, in order. The first failure stops the rest, as
    /// a crash would: the caller's job is retried and publishes again, and the reactions
    /// that already ran are idempotent.
    pub async fn publish(&self, events: &[DomainEvent]) -> ServiceResult<()> {
        for event in events {
            for reaction in &self.reactions.0 {
                reaction.on(self, event).await.inspect_err(|e| {
                    tracing::warn!(reaction = reaction.name(), event = event.kind(), error = %e, "a reaction failed");
                })?;
            }
        }
        Ok(())
    }
}
