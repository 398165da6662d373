//! Cargo-style version requirement matching, written by hand.
//!
//! Versions here never carry pre-release or build metadata.

/// A release version `MAJOR.MINOR.PATCH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        Version { major, minor, patch }
    }

    /// Parses `"1.2.3"`. Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<Version> {
        let mut it = s.trim().split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        Some(Version { major, minor, patch })
    }
}

/// The operator in front of a comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `^1.2.3`, and also a bare `1.2.3`
    Caret,
    /// `~1.2.3`
    Tilde,
    /// `=1.2.3`
    Exact,
    /// `>1.2.3`
    Greater,
    /// `>=1.2.3`
    GreaterEq,
    /// `<1.2.3`
    Less,
    /// `<=1.2.3`
    LessEq,
    /// `1.*` or `1.2.*` (the parts before the star are `major`/`minor`)
    Wildcard,
}

/// One comparator such as `^0.2` or `>=1.4.1`. Missing parts are `None`:
/// `~1.2` has `minor: Some(2)` and `patch: None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparator {
    pub op: Op,
    pub major: u64,
    pub minor: Option<u64>,
    pub patch: Option<u64>,
}

impl Comparator {
    /// Parses one comparator (already split on commas). Provided for you.
    pub fn parse(s: &str) -> Option<Comparator> {
        let s = s.trim();
        let (op, rest) = if let Some(r) = s.strip_prefix(">=") {
            (Op::GreaterEq, r)
        } else if let Some(r) = s.strip_prefix("<=") {
            (Op::LessEq, r)
        } else if let Some(r) = s.strip_prefix('>') {
            (Op::Greater, r)
        } else if let Some(r) = s.strip_prefix('<') {
            (Op::Less, r)
        } else if let Some(r) = s.strip_prefix('=') {
            (Op::Exact, r)
        } else if let Some(r) = s.strip_prefix('^') {
            (Op::Caret, r)
        } else if let Some(r) = s.strip_prefix('~') {
            (Op::Tilde, r)
        } else {
            (Op::Caret, s)
        };
        let mut nums: Vec<u64> = Vec::new();
        let mut wildcard = false;
        for part in rest.trim().split('.') {
            if wildcard {
                return None; // nothing may follow a star
            }
            match part {
                "*" | "x" | "X" => wildcard = true,
                n => nums.push(n.parse().ok()?),
            }
        }
        if wildcard && (op != Op::Caret || s.starts_with('^')) {
            return None; // only a bare `1.*` is supported here
        }
        if nums.is_empty() || nums.len() > 3 {
            return None;
        }
        Some(Comparator {
            op: if wildcard { Op::Wildcard } else { op },
            major: nums[0],
            minor: nums.get(1).copied(),
            patch: nums.get(2).copied(),
        })
    }

    /// Does `v` satisfy this comparator, with Cargo's semantics?
    pub fn matches(&self, v: &Version) -> bool {
        let (major, minor, patch) = (self.major, self.minor, self.patch);
        // "Same as the comparator in every part it names."
        let same_prefix = || {
            v.major == major
                && minor.is_none_or(|m| v.minor == m)
                && patch.is_none_or(|p| v.patch == p)
        };
        let lower = Version::new(major, minor.unwrap_or(0), patch.unwrap_or(0));
        match self.op {
            Op::Exact | Op::Wildcard => same_prefix(),
            Op::GreaterEq => *v >= lower,
            Op::Less => *v < lower,
            Op::Greater => match (minor, patch) {
                (Some(mi), Some(pa)) => *v > Version::new(major, mi, pa),
                (Some(mi), None) => *v >= Version::new(major, mi + 1, 0),
                _ => *v >= Version::new(major + 1, 0, 0),
            },
            Op::LessEq => match (minor, patch) {
                (Some(mi), Some(pa)) => *v <= Version::new(major, mi, pa),
                (Some(mi), None) => *v < Version::new(major, mi + 1, 0),
                _ => *v < Version::new(major + 1, 0, 0),
            },
            Op::Tilde => match (minor, patch) {
                (Some(mi), Some(_)) => *v >= lower && v.major == major && v.minor == mi,
                _ => same_prefix(),
            },
            Op::Caret => {
                if *v < lower || v.major != major {
                    return false;
                }
                if major > 0 {
                    return true;
                }
                // 0.x: the left-most non-zero component must stay the same.
                match (minor, patch) {
                    (None, _) => true,                           // ^0     -> <1.0.0
                    (Some(mi), _) if mi > 0 => v.minor == mi,    // ^0.2.x -> <0.3.0
                    (Some(_), None) => v.minor == 0,             // ^0.0   -> <0.1.0
                    (Some(_), Some(pa)) => v.minor == 0 && v.patch == pa, // ^0.0.3 -> =0.0.3
                }
            }
        }
    }
}

/// Does `version` satisfy every comma-separated comparator in `req`?
/// `"*"` matches everything. Unparsable input never matches.
pub fn matches_req(req: &str, version: &str) -> bool {
    let Some(v) = Version::parse(version) else {
        return false;
    };
    if req.trim() == "*" {
        return true;
    }
    req.split(',').all(|c| Comparator::parse(c).is_some_and(|c| c.matches(&v)))
}
