//! Name resolution for webhook deliveries: every address a webhook's host resolves to is
//! checked against the outbound policy as the delivery connects, so a name cannot be pointed
//! inside the network after the webhook was created.

use app::backend::messaging::outbound::OutboundPolicy;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;

pub struct PolicyResolver(pub OutboundPolicy);

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved
                .filter(|address| policy.allows(&host, address.ip()))
                .collect();
            if allowed.is_empty() {
                return Err("the host has no public address".into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[tokio::test]
    async fn a_name_that_resolves_to_this_machine_is_not_connected_to() {
        let resolver = PolicyResolver(OutboundPolicy::default());
        let refused = resolver.resolve(Name::from_str("localhost").unwrap()).await;
        assert!(refused.is_err());
        let allowed = PolicyResolver(OutboundPolicy::parse("localhost").unwrap())
            .resolve(Name::from_str("localhost").unwrap())
            .await;
        assert!(allowed.unwrap().all(|a| a.ip().is_loopback()));
    }
}
