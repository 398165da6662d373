//! The files Lockstep carries inside its binary, so one executable is the
//! whole installation: the static files (served from memory), the default
//! programme and the grader's pinned workspace (both extracted into the data
//! dir, because the curriculum loader reads files and the grader builds the
//! workspace with cargo).
//!
//! Each extracted tree lives in `<data dir>/bundle/<tree>-<hash of its
//! content>`: an upgraded binary extracts its own version beside the old
//! one, and a directory is only ever used once it is complete (it is written
//! under a temporary name and renamed into place).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

// `STATIC_FILES`, `CURRICULUM_FILES`, `GRADER_DEPS_FILES`: (relative path,
// content) pairs, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/bundle.rs"));

/// One embedded directory tree.
#[derive(Debug, Clone, Copy)]
pub struct Tree {
    /// Its name, and the prefix of its extracted directory.
    pub name: &'static str,
    /// (path relative to the tree, content), sorted by path.
    pub files: &'static [(&'static str, &'static [u8])],
}

/// `static/`: CSS and JavaScript.
pub const STATIC: Tree = Tree {
    name: "static",
    files: STATIC_FILES,
};

/// `curriculum/`: the default programme.
pub const CURRICULUM: Tree = Tree {
    name: "curriculum",
    files: CURRICULUM_FILES,
};

/// `grader/deps/`: the pinned crate workspace learner code compiles against.
pub const GRADER_DEPS: Tree = Tree {
    name: "grader-deps",
    files: GRADER_DEPS_FILES,
};

impl Tree {
    /// A hash of every path and content in the tree (12 hex digits).
    pub fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        for (path, content) in self.files {
            // Lengths first, so no two different trees hash alike.
            hasher.update((path.len() as u64).to_le_bytes());
            hasher.update(path.as_bytes());
            hasher.update((content.len() as u64).to_le_bytes());
            hasher.update(content);
        }
        hex::encode(&hasher.finalize()[..6])
    }

    /// The tree on disk under `data_dir`, extracted first if this version
    /// of it is not there yet.
    pub fn extracted(&self, data_dir: &Path) -> Result<PathBuf> {
        let bundle_dir = data_dir.join("bundle");
        let target = bundle_dir.join(format!("{}-{}", self.name, self.hash()));
        if target.is_dir() {
            return Ok(target);
        }
        fs::create_dir_all(&bundle_dir)
            .with_context(|| format!("cannot create {}", bundle_dir.display()))?;
        let partial = bundle_dir.join(format!(
            ".partial-{}-{}",
            self.name,
            uuid::Uuid::new_v4().simple()
        ));
        let written = self.write_into(&partial);
        let renamed = written.and_then(|()| {
            fs::rename(&partial, &target).or_else(|error| {
                // Another process extracted the same version meanwhile.
                if target.is_dir() {
                    Ok(())
                } else {
                    Err(error.into())
                }
            })
        });
        if partial.exists() {
            let _ = fs::remove_dir_all(&partial);
        }
        renamed.with_context(|| {
            format!(
                "cannot extract the built-in {} into {}",
                self.name,
                target.display()
            )
        })?;
        tracing::info!(path = %target.display(), "extracted the built-in {}", self.name);
        Ok(target)
    }

    fn write_into(&self, dir: &Path) -> Result<()> {
        for (relative, content) in self.files {
            let path = dir.join(relative);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&path, content)?;
        }
        Ok(())
    }
}

/// The built-in static file `name` (relative to `static/`), if there is one.
pub fn static_file(name: &str) -> Option<&'static [u8]> {
    static INDEX: OnceLock<std::collections::HashMap<&'static str, &'static [u8]>> =
        OnceLock::new();
    INDEX
        .get_or_init(|| STATIC.files.iter().copied().collect())
        .get(name)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tree_is_embedded_with_its_key_files() {
        assert!(static_file("style.css").is_some());
        assert!(
            CURRICULUM
                .files
                .iter()
                .any(|(path, _)| *path == "programme.toml")
        );
        for needed in ["Cargo.toml", "Cargo.lock", "harness/Cargo.toml"] {
            assert!(
                GRADER_DEPS.files.iter().any(|(path, _)| *path == needed),
                "{needed}"
            );
        }
        assert_ne!(CURRICULUM.hash(), GRADER_DEPS.hash());
    }

    #[test]
    fn a_tree_is_extracted_once_per_version_and_complete() {
        let data_dir =
            std::env::temp_dir().join(format!("lockstep-bundle-{}", uuid::Uuid::new_v4().simple()));
        let first = GRADER_DEPS.extracted(&data_dir).unwrap();
        assert!(first.ends_with(format!("grader-deps-{}", GRADER_DEPS.hash())));
        for (relative, content) in GRADER_DEPS.files {
            assert_eq!(&fs::read(first.join(relative)).unwrap(), content);
        }
        // Found, not rewritten, the second time; no partial copies left.
        let marker = first.join("marker");
        fs::write(&marker, "x").unwrap();
        assert_eq!(GRADER_DEPS.extracted(&data_dir).unwrap(), first);
        assert!(marker.exists());
        let names: Vec<_> = fs::read_dir(data_dir.join("bundle"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        fs::remove_dir_all(&data_dir).unwrap();
    }
}
