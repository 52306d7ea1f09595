//! Who is asking: the peer's address, or, when the peer is a reverse proxy the operator trusts,
//! the address that proxy says it forwarded for. A client can write any `X-Forwarded-For` it
//! likes, so the header counts only as far as it was written by trusted proxies.

use http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

/// The networks whose connections are reverse proxies (`SLUICE_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

/// The client's address, as the edge worked it out; a request extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and networks (`10.0.0.1, 192.168.0.0/16`).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let net = IpNet::from_str(item)
                .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                .map_err(|_| format!("'{item}' is not an address or a network"))?;
            nets.push(net);
        }
        Ok(TrustedProxies(Arc::new(nets)))
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client behind `peer`: the rightmost address in `X-Forwarded-For` that no trusted
    /// proxy wrote, or the peer itself when it is not a trusted proxy.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Ok(address) = IpAddr::from_str(hop.trim()) else {
                // Not an address: whoever wrote it is not to be believed further.
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }
}

/// A handler argument: the client's address (the peer's when none was worked out).
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            client_ip(parts).unwrap_or(IpAddr::from([0, 0, 0, 0])),
        ))
    }
}

/// The client's address as the edge worked it out (behind trusted proxies, the one they name).
pub fn client_address(parts: &http::request::Parts) -> String {
    client_ip(parts).map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

pub fn client_ip(parts: &http::request::Parts) -> Option<std::net::IpAddr> {
    parts.extensions.get::<ClientIp>().map(|ClientIp(ip)| *ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_that_is_not_a_proxy_cannot_choose_its_address() {
        let proxies = TrustedProxies::parse("10.0.0.1").unwrap();
        let client = proxies.client(ip("203.0.113.9"), &forwarded("198.51.100.1"));
        assert_eq!(client, ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_it_forwards() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        let client = proxies.client(ip("10.0.0.1"), &forwarded("198.51.100.1"));
        assert_eq!(client, ip("198.51.100.1"));
        let client = proxies.client(ip("::1"), &forwarded("2001:db8::7"));
        assert_eq!(client, ip("2001:db8::7"));
    }

    #[test]
    fn what_the_client_wrote_before_the_proxies_is_ignored() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let client = proxies.client(
            ip("10.0.0.1"),
            &forwarded("1.2.3.4, 198.51.100.1, 10.0.0.2"),
        );
        assert_eq!(client, ip("198.51.100.1"));
        let client = proxies.client(ip("10.0.0.1"), &forwarded("198.51.100.1, junk"));
        assert_eq!(client, ip("10.0.0.1"));
    }

    #[test]
    fn a_bad_list_says_which_item() {
        assert_eq!(
            TrustedProxies::parse("10.0.0.1, proxy.example").unwrap_err(),
            "'proxy.example' is not an address or a network"
        );
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
    }
}
