//! The JS shapes of sampling heap profiles and the allocation sites found in them,
//! translated to and from [`memwatchdog_watchdog::profiles`].

use memwatchdog_heapprofile::{AllocationSite, Frame, FrameKind};
use memwatchdog_watchdog::profiles::{ProfileKind, ProfileTaken as Taken};
use napi::Result;
use napi_derive::napi;

use crate::options::invalid;

/// A profile JS has taken.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ProfileTaken {
    /// `baseline`, `suspect` or `leak`.
    pub kind: String,
    /// The profile (`HeapProfiler.getSamplingProfile`'s `profile`) as JSON text.
    pub json: String,
    /// Where to write it; absent: nowhere (no `profile.dir`), the diff still happens.
    pub path: Option<String>,
    /// Most `.heapprofile` files kept in the directory.
    pub max_files: u32,
    /// The sampling interval the profile was taken with (bytes), for the report.
    pub sampling_interval: u32,
}

/// One frame of an allocation site's stack (1-based line and column).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NativeFrame {
    /// Function name (`(anonymous)` when V8 has none).
    pub function_name: String,
    /// Script URL or path (empty for V8 builtins).
    pub url: String,
    /// Line of the function's definition, 1-based; absent when V8 does not know it.
    pub line: Option<u32>,
    /// Column of the function's definition, 1-based; absent when V8 does not know it.
    pub column: Option<u32>,
    /// `user` (the application and its dependencies), `node`, `builtin` or `vm`.
    pub kind: String,
    /// Where the function is in the original source, when its script has a source map.
    pub original: Option<NativeOriginal>,
}

/// A position in original source (1-based), from the script's source map.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NativeOriginal {
    /// The original file.
    pub url: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// An allocation site whose live sampled bytes grew since the baseline.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NativeAllocationSite {
    /// One line for the alert and the log: growth, then the stack from the innermost
    /// application frame outwards.
    pub summary: String,
    /// The innermost application frame as one line: `pushEntry (server.js:41:18)`.
    pub site: String,
    /// Growth of the live sampled bytes.
    pub delta_bytes: f64,
    /// Live sampled bytes in the newer profile.
    pub bytes: f64,
    /// Call stack, innermost (allocating) frame first.
    pub stack: Vec<NativeFrame>,
    /// Index in `stack` of the innermost application frame (not Node's, not a builtin).
    pub user_frame: Option<u32>,
}

impl ProfileTaken {
    pub(crate) fn into_rust(self) -> Result<Taken> {
        let kind = match self.kind.as_str() {
            "baseline" => ProfileKind::Baseline,
            "suspect" => ProfileKind::Suspect,
            "leak" => ProfileKind::Leak,
            other => {
                return Err(invalid(format!(
                    "unknown profile kind {other:?} (baseline, suspect or leak)"
                )));
            }
        };
        Ok(Taken {
            kind,
            json: self.json,
            path: self.path.map(Into::into),
            max_files: self.max_files as usize,
            sampling_interval: self.sampling_interval,
        })
    }
}

impl From<&AllocationSite> for NativeAllocationSite {
    fn from(site: &AllocationSite) -> Self {
        NativeAllocationSite {
            summary: site.summary.clone(),
            site: site.site.clone(),
            delta_bytes: site.delta_bytes as f64,
            bytes: site.bytes.last().copied().unwrap_or(0) as f64,
            stack: site.frames.iter().map(NativeFrame::from).collect(),
            user_frame: site.user_frame.map(|i| i as u32),
        }
    }
}

impl From<&Frame> for NativeFrame {
    fn from(f: &Frame) -> Self {
        NativeFrame {
            function_name: f.function.clone(),
            url: f.url.clone(),
            line: f.line,
            column: f.column,
            kind: match f.kind {
                FrameKind::User => "user",
                FrameKind::Node => "node",
                FrameKind::Builtin => "builtin",
                FrameKind::Vm => "vm",
            }
            .to_owned(),
            original: f.original.as_ref().map(|o| NativeOriginal {
                url: o.url.clone(),
                line: o.line,
                column: o.column,
            }),
        }
    }
}
