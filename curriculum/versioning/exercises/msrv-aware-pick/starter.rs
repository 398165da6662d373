//! Pick a dependency version like Cargo's MSRV-aware resolver (resolver 3).

pub use semver::{Version, VersionReq};

/// One published release of a crate, as the registry index describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: Version,
    /// The release's declared `rust-version`, if any.
    pub rust_version: Option<Version>,
    pub yanked: bool,
}

impl Release {
    /// `Release::new("1.4.0", Some("1.70"), false)`. A two-part rust-version
    /// such as `"1.70"` means `1.70.0`.
    pub fn new(version: &str, rust_version: Option<&str>, yanked: bool) -> Self {
        Release {
            version: Version::parse(version).expect("bad version"),
            rust_version: rust_version.map(parse_rust_version),
            yanked,
        }
    }
}

/// `"1.70"` -> `1.70.0`, `"1.70.1"` -> `1.70.1`.
pub fn parse_rust_version(s: &str) -> Version {
    let full = if s.matches('.').count() == 1 { format!("{s}.0") } else { s.to_string() };
    Version::parse(&full).expect("bad rust-version")
}

/// The resolver's choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The newest acceptable release whose rust-version is satisfied.
    Compatible(Version),
    /// No acceptable release is compatible with the MSRV: the newest acceptable one.
    Fallback(Version),
}

/// Choose a version of one crate.
///
/// * acceptable = not yanked and matching **every** requirement in `reqs`
///   (several dependents may each have their own requirement);
/// * prefer the newest acceptable release whose `rust_version` is absent or
///   `<= msrv`; if `msrv` is `None`, every release is compatible;
/// * otherwise fall back to the newest acceptable release;
/// * `None` if nothing is acceptable.
///
/// `releases` is in no particular order.
pub fn pick(releases: &[Release], reqs: &[VersionReq], msrv: Option<&Version>) -> Option<Pick> {
    // The pre-1.84 resolver: newest release matching the first requirement.
    let _ = msrv;
    let first = reqs.first()?;
    releases
        .iter()
        .filter(|r| first.matches(&r.version))
        .map(|r| r.version.clone())
        .max()
        .map(Pick::Compatible)
}
