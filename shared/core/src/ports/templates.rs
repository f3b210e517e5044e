//! The template catalogue port: templates created, edited, deleted and listed at the
//! provider (Meta's WhatsApp Business Account), in the domain's own terms.

use super::messaging::ProviderError;
use crate::conversations::template_model::{Template, TemplateCategory, TemplateContent, TemplateQuality};
use crate::secret::Secret;
use async_trait::async_trait;

/// What the provider needs to act on a business account's templates.
#[derive(Debug, Clone)]
pub struct CatalogAccess {
    pub waba_id: String,
    /// The app that owns uploads of header examples.
    pub app_id: Option<String>,
    pub access_token: Secret,
}

/// The provider's answer to a creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub provider_id: String,
    /// The provider's status word (e.g. `APPROVED`, `PENDING`), read by
    /// [`crate::conversations::templates::status_from_provider`].
    pub status: String,
    pub category: Option<TemplateCategory>,
}

/// A template as the provider holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteTemplate {
    pub provider_id: String,
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    pub status: String,
    pub reason: Option<String>,
    pub quality: Option<TemplateQuality>,
    pub content: TemplateContent,
}

#[async_trait]
pub trait TemplateCatalog: Send + Sync {
    /// Uploads a header's example file; returns the handle a creation names.
    async fn upload_example(
        &self,
        access: &CatalogAccess,
        bytes: Vec<u8>,
        mime: &str,
    ) -> Result<String, ProviderError>;
    /// Submits `template` for review; `example_handle` for a media header.
    async fn create(
        &self,
        access: &CatalogAccess,
        template: &Template,
        example_handle: Option<&str>,
    ) -> Result<Created, ProviderError>;
    /// Replaces the components (and category) of the provider's template.
    async fn edit(
        &self,
        access: &CatalogAccess,
        template: &Template,
        example_handle: Option<&str>,
    ) -> Result<(), ProviderError>;
    /// Deletes the template of that name (and id) at the provider.
    async fn delete(&self, access: &CatalogAccess, template: &Template) -> Result<(), ProviderError>;
    /// Every template of the business account, every page.
    async fn list(&self, access: &CatalogAccess) -> Result<Vec<RemoteTemplate>, ProviderError>;
}
