//! Where webhooks may point: public addresses, plus what the operator allows
//! (`SLUICE_WEBHOOK_ALLOW`: host names and networks, e.g. `hooks.internal, 10.0.0.0/8`). A URL is
//! checked when the webhook is created, and every address it resolves to is checked again when
//! a delivery connects (`server::jobs::outbound_resolver`), so a name that later points inside
//! the network is refused too. URLs are read by the WHATWG rules browsers use, so numeric
//! disguises (`http://0x7f000001/`, `http://2130706433/`) are seen as the addresses they are.

use crate::error::AppError;
use crate::model::outbound::is_public;
use ipnet::IpNet;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy(Arc<Allowed>);

#[derive(Debug, Default)]
struct Allowed {
    hosts: Vec<String>,
    networks: Vec<IpNet>,
}

impl OutboundPolicy {
    /// Parses the allow-list: a comma-separated list of host names, addresses and networks.
    pub fn parse(list: &str) -> Result<OutboundPolicy, String> {
        let mut allowed = Allowed::default();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if let Ok(net) = IpNet::from_str(item) {
                allowed.networks.push(net);
            } else if let Ok(ip) = IpAddr::from_str(item.trim_matches(['[', ']'])) {
                allowed.networks.push(IpNet::from(ip));
            } else if item
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                allowed.hosts.push(item.to_ascii_lowercase());
            } else {
                return Err(format!("'{item}' is not a host name, address or network"));
            }
        }
        Ok(OutboundPolicy(Arc::new(allowed)))
    }

    /// Whether a delivery may connect to `ip` (reached through `host`).
    pub fn allows(&self, host: &str, ip: IpAddr) -> bool {
        is_public(ip)
            || self.0.networks.iter().any(|net| net.contains(&ip))
            || self.allows_host(host)
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.0.hosts.contains(&host)
    }

    /// Checks a webhook URL before it is stored: an http(s) URL whose host, if an address, may
    /// be sent to. A name is checked each time it is resolved.
    pub fn check_url(&self, field: &str, text: &str) -> Result<(), AppError> {
        let url = url::Url::parse(text)
            .map_err(|_| AppError::validation(field, "must be an http:// or https:// URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AppError::validation(
                field,
                "must be an http:// or https:// URL",
            ));
        }
        let refused = || {
            AppError::validation(
                field,
                "must point to a public address (the operator can allow others with \
                 SLUICE_WEBHOOK_ALLOW)",
            )
        };
        match url.host() {
            Some(url::Host::Ipv4(ip)) if !self.allows("", IpAddr::V4(ip)) => Err(refused()),
            Some(url::Host::Ipv6(ip)) if !self.allows("", IpAddr::V6(ip)) => Err(refused()),
            Some(url::Host::Domain(name)) if is_local_name(name) && !self.allows_host(name) => {
                Err(refused())
            }
            Some(_) => Ok(()),
            None => Err(AppError::validation(field, "must name a host")),
        }
    }
}

/// Names that always mean this machine (RFC 6761), with or without the final dot.
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_into_the_own_network_are_refused_however_written() {
        let policy = OutboundPolicy::default();
        for url in [
            "http://127.0.0.1/hook",
            "http://0x7f000001/hook",
            "http://2130706433/hook",
            "http://0177.0.0.1/hook",
            "http://[::1]:8080/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://localhost:3000/",
            "http://LOCALHOST./",
            "http://[::ffff:7f00:1]/",
        ] {
            assert!(policy.check_url("url", url).is_err(), "{url}");
        }
        assert!(policy
            .check_url("url", "https://hooks.example.com/x")
            .is_ok());
        assert!(policy.check_url("url", "https://93.184.215.14/x").is_ok());
        assert!(policy.check_url("url", "ftp://example.com/").is_err());
    }

    #[test]
    fn the_operator_can_allow_hosts_and_networks() {
        let policy = OutboundPolicy::parse("127.0.0.1, 10.0.0.0/8, hooks.internal").unwrap();
        assert!(policy.check_url("url", "http://127.0.0.1:9000/").is_ok());
        assert!(policy.check_url("url", "http://10.9.8.7/").is_ok());
        assert!(policy.allows("hooks.internal", "192.168.1.5".parse().unwrap()));
        assert!(!policy.allows("other.internal", "192.168.1.5".parse().unwrap()));
        assert!(OutboundPolicy::parse("http://x").is_err());
    }
}
