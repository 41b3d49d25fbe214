//! `ip("...")` matching for line filters and label filters.

use std::net::IpAddr;

#[derive(Debug, Clone)]
pub(super) enum IpMatcher {
    Addr(IpAddr),
    Prefix(IpAddr, u8),
    Range(IpAddr, IpAddr),
}

fn same_family(a: &IpAddr, b: &IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

fn to_u128(a: &IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(*v) as u128,
        IpAddr::V6(v) => u128::from(*v),
    }
}

impl IpMatcher {
    pub(super) fn parse(pattern: &str) -> Result<IpMatcher, String> {
        let bad = || format!("ip: invalid pattern: {}", model::quote_go(pattern));
        if let Ok(a) = pattern.parse::<IpAddr>() {
            return Ok(IpMatcher::Addr(a));
        }
        if let Some((a, bits)) = pattern.split_once('/') {
            let a: IpAddr = a.parse().map_err(|_| bad())?;
            if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let bits: u8 = bits.parse().map_err(|_| bad())?;
            let max = if a.is_ipv4() { 32 } else { 128 };
            if bits > max {
                return Err(bad());
            }
            return Ok(IpMatcher::Prefix(a, bits));
        }
        if let Some((a, b)) = pattern.split_once('-') {
            let a: IpAddr = a.parse().map_err(|_| bad())?;
            let b: IpAddr = b.parse().map_err(|_| bad())?;
            if !same_family(&a, &b) || to_u128(&a) > to_u128(&b) {
                return Err(bad());
            }
            return Ok(IpMatcher::Range(a, b));
        }
        Err(bad())
    }

    pub(super) fn contains(&self, ip: &IpAddr) -> bool {
        match self {
            IpMatcher::Addr(a) => a == ip,
            IpMatcher::Prefix(a, bits) => {
                if !same_family(a, ip) {
                    return false;
                }
                let width = if a.is_ipv4() { 32 } else { 128 };
                if *bits == 0 {
                    return true;
                }
                let shift = width - *bits as u32;
                (to_u128(a) >> shift) == (to_u128(ip) >> shift)
            }
            IpMatcher::Range(a, b) => same_family(a, ip) && to_u128(a) <= to_u128(ip) && to_u128(ip) <= to_u128(b),
        }
    }

    /// Whether any IP-looking token of `line` lies in the matcher's range (Loki's scan).
    pub(super) fn filter(&self, line: &str) -> bool {
        let b = line.as_bytes();
        let n = b.len();
        if n == 0 {
            return false;
        }
        let at = |i: usize| if i < n { b[i] } else { 0 };
        let hex = |c: u8| c.is_ascii_hexdigit();
        let mut i = 0;
        while i < n {
            let v4 = i + 3 < n && b[i].is_ascii_digit() && (b[i + 1] == b'.' || b[i + 2] == b'.' || b[i + 3] == b'.');
            let v6 = {
                let p = [at(i), at(i + 1), at(i + 2), at(i + 3), at(i + 4)];
                (p[0] == b':' && p[1] == b':' && hex(p[2]))
                    || (hex(p[0]) && p[1] == b':')
                    || (hex(p[0]) && hex(p[1]) && p[2] == b':')
                    || (hex(p[0]) && hex(p[1]) && hex(p[2]) && p[3] == b':')
                    || (hex(p[0]) && hex(p[1]) && hex(p[2]) && hex(p[3]) && p[4] == b':')
            };
            if v4 || v6 {
                let charset: fn(u8) -> bool = if v4 {
                    |c| c.is_ascii_digit() || c == b'.'
                } else {
                    |c| c.is_ascii_hexdigit() || c == b':' || c == b'.'
                };
                let len = b[i..].iter().take_while(|c| charset(**c)).count();
                if let Ok(ip) = line[i..i + len].parse::<IpAddr>()
                    && self.contains(&ip)
                {
                    return true;
                }
                i += len + 1;
                continue;
            }
            i += 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_matching() {
        let m = IpMatcher::parse("192.168.0.0/16").unwrap();
        assert!(m.filter("from 192.168.4.5 to x"));
        assert!(!m.filter("from 10.0.0.1"));
        let r = IpMatcher::parse("192.168.4.5-192.168.4.20").unwrap();
        assert!(r.filter("ip=192.168.4.7"));
        assert!(!r.filter("ip=192.168.4.21"));
        assert!(IpMatcher::parse("bogus").is_err());
        let a = IpMatcher::parse("::1").unwrap();
        assert!(a.filter("addr ::1 end"));
    }
}
