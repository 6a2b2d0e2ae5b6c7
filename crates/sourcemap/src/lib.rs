//! Source maps: where a position in generated JavaScript (`dist/app.js:12:9`) came from in
//! the original source (`src/app.ts:30:5`), for the allocation sites and closures MemWatchdog
//! reports.
//!
//! [`SourceMap`] is the pure part: a source map v3 (what `tsc --sourceMap`, esbuild, webpack and
//! Babel write) parsed from bytes, its `mappings` decoded once into sorted segments, and
//! [`SourceMap::lookup`] of a generated position. [`Resolver`] is the IO edge: given a script
//! as V8 names it (a path or a `file://` URL), it finds the script's `//# sourceMappingURL=`
//! (an inline `data:` URL or a file next to the script), loads and caches the map, and answers
//! with an [`Original`] position, or `None` when the script has no usable map. Reports keep the
//! generated position too; a missing, unreadable or malformed map only means no mapping.
//!
//! ```
//! use memwatchdog_sourcemap::SourceMap;
//!
//! // Generated line 1 column 0 comes from `src/app.ts` line 3 column 4 (0-based).
//! let map = SourceMap::parse(br#"{"version": 3, "sources": ["src/app.ts"], "names": [],
//!     "mappings": "AAEI"}"#).unwrap();
//! let original = map.lookup(0, 0).unwrap();
//! assert_eq!((original.source, original.line, original.column), ("src/app.ts", 2, 4));
//! ```
//!
//! Positions here are 0-based, as in source maps and V8; callers convert.

mod map;
mod resolve;
mod vlq;

pub use map::{Lookup, SourceMap, SourceMapError};
pub use resolve::{MAX_MAP_BYTES, MAX_SCRIPT_BYTES, Original, Resolver};
