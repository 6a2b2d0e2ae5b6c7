//! The copy program of the Kubernetes init-container image (`deploy/kubernetes/Containerfile`).
//!
//! The image is `FROM scratch`: no shell and no `cp`, so it carries this one static binary,
//! which copies the installed `@memwatchdog/core` (its `node_modules` tree) into the pod's shared
//! `emptyDir`, where the app container's `NODE_OPTIONS=--require ...` finds it. [`copy_tree`]
//! copies the *contents* of a source directory into an existing destination directory (the
//! mounted volume): files, directories and symbolic links, with their permission bits (never
//! set-id bits), each file written under a temporary name and renamed into place, so running it
//! again (an init container runs again when the pod restarts, and the volume outlives it) replaces
//! what is there instead of failing. Anything else (a FIFO, a socket, a device) is refused.

mod copy;
mod error;

pub use copy::{Copied, copy_tree};
pub use error::CopyError;
