//! Building the SDK clients, optionally against a local endpoint (moto).

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;

#[derive(Debug, Clone, Default)]
pub struct AwsConnection {
    /// e.g. `http://127.0.0.1:5000` for moto; `None` = the real AWS endpoints.
    pub endpoint: Option<String>,
    /// `None` = from the environment (Lambda sets `AWS_REGION`).
    pub region: Option<String>,
    /// Use fixed dummy credentials (for a local endpoint that ignores them).
    pub dummy_credentials: bool,
    /// In a Lambda function: region and credentials straight from the variables Lambda
    /// sets (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`), skipping the default chain's profile files and metadata
    /// lookups at cold start.
    pub lambda_environment: bool,
}

#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
    /// The shared configuration (credentials, region), for clients made on demand.
    pub config: aws_config::SdkConfig,
}

impl Clients {
    pub async fn connect(connection: &AwsConnection) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(endpoint) = &connection.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(region) = &connection.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if connection.lambda_environment {
            if let Ok(region) = std::env::var("AWS_REGION") {
                loader = loader.region(Region::new(region));
            }
            loader = loader.credentials_provider(
                aws_config::environment::credentials::EnvironmentVariableCredentialsProvider::new(),
            );
        }
        if connection.dummy_credentials {
            loader = loader.credentials_provider(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "atende-dummy",
            ));
        }
        let shared = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(connection.endpoint.is_some())
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&shared),
            sqs: aws_sdk_sqs::Client::new(&shared),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            kms: aws_sdk_kms::Client::new(&shared),
            config: shared,
        }
    }
}
