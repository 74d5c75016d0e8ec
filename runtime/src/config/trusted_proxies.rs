//! `TRUSTED_PROXIES`: the reverse proxies whose forwarded-for headers the
//! HTTP layer believes.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::ConfigError;

/// TRUSTED_PROXIES: the reverse proxies whose `X-Forwarded-For` /
/// `Forwarded` headers are believed, as IP addresses or CIDR networks.
/// Written as a list or a comma-separated string; an entry that is neither
/// an address nor a network is an error naming it.
///
/// ```
/// use awesome_audit_log::config::TrustedProxies;
///
/// let proxies: TrustedProxies = "10.0.0.0/8, 192.0.2.7, ::1".parse().unwrap();
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(proxies.contains("192.0.2.7".parse().unwrap()));
/// assert!(!proxies.contains("192.0.2.8".parse().unwrap()));
/// // An IPv4 peer seen on a dual-stack socket matches its IPv4 entry.
/// assert!(proxies.contains("::ffff:10.0.0.1".parse().unwrap()));
///
/// let err = "10.0.0.0/8, proxy.local".parse::<TrustedProxies>().unwrap_err();
/// assert!(err.to_string().contains("TRUSTED_PROXIES") && err.to_string().contains("proxy.local"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// The given networks (use `IpNet::from(addr)` for one address).
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        TrustedProxies(networks.into_iter().collect())
    }

    /// Whether `addr` is one of the proxies. IPv4-mapped IPv6 addresses
    /// (`::ffff:a.b.c.d`) are compared as the IPv4 address they carry.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// Whether no proxy is trusted (the default).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The networks, in the order given.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    fn parse_entry(entry: &str) -> Result<IpNet, ConfigError> {
        let entry = entry.trim();
        IpNet::from_str(entry)
            .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
            .map_err(|_| ConfigError::Invalid {
                key: "TRUSTED_PROXIES",
                value: entry.to_owned(),
                reason: "not an IP address or CIDR network (such as 10.0.0.0/8)".to_owned(),
            })
    }
}

impl FromStr for TrustedProxies {
    type Err = ConfigError;

    /// Parses a comma-separated list; empty entries are ignored.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(TrustedProxies::parse_entry)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

impl Serialize for TrustedProxies {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TrustedProxiesVisitor)
    }
}

struct TrustedProxiesVisitor;

impl<'de> Visitor<'de> for TrustedProxiesVisitor {
    type Value = TrustedProxies;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of IP addresses or CIDR networks, or a comma-separated string of them")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        value.parse().map_err(E::custom)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(TrustedProxies::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut networks = Vec::new();
        while let Some(entry) = seq.next_element::<String>()? {
            networks.push(TrustedProxies::parse_entry(&entry).map_err(de::Error::custom)?);
        }
        Ok(TrustedProxies(networks))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::AuditConfig;

    #[test]
    fn trusted_proxies_from_a_list_or_a_string() {
        let config = AuditConfig::from_toml_str(
            "TRUSTED_PROXIES = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]",
        )
        .unwrap();
        let proxies = &config.trusted_proxies;
        assert_eq!(proxies.networks().len(), 3);
        assert!(proxies.contains("127.0.0.1".parse().unwrap()));
        assert!(!proxies.contains("127.0.0.2".parse().unwrap()));
        assert!(proxies.contains("10.200.0.1".parse().unwrap()));
        assert!(proxies.contains("::1".parse().unwrap()));
        assert!(proxies.contains("::ffff:127.0.0.1".parse().unwrap()));

        let config =
            AuditConfig::from_toml_str("trusted_proxies = \"192.0.2.0/24, 2001:db8::/32,\"")
                .unwrap();
        assert_eq!(
            config
                .trusted_proxies
                .networks()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["192.0.2.0/24", "2001:db8::/32"]
        );
        // Round trip through serde.
        let json = serde_json::to_string(&config.trusted_proxies).unwrap();
        assert_eq!(json, r#"["192.0.2.0/24","2001:db8::/32"]"#);

        for bad in [
            "TRUSTED_PROXIES = \"10.0.0.0/33\"",
            "TRUSTED_PROXIES = [\"proxy.local\"]",
        ] {
            let err = AuditConfig::from_toml_str(bad).unwrap_err().to_string();
            assert!(err.contains("TRUSTED_PROXIES"), "{err}");
            assert!(
                err.contains("10.0.0.0/33") || err.contains("proxy.local"),
                "{err}"
            );
        }
    }
}
