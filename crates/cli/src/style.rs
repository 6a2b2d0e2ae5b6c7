//! The colours of the terminal reports, shared by the snapshot and the profile tables.
//!
//! Colour is only used when the caller says so (a terminal without `NO_COLOR`); without it
//! every style is empty, so files and pipes get the same text without escape codes.

use owo_colors::Style;

/// The styles of one rendering.
pub struct Styles {
    /// Section headings.
    pub heading: Style,
    /// Growth figures.
    pub grow: Style,
    /// Secondary lines.
    pub dim: Style,
    /// Retainer paths and stacks.
    pub path: Style,
}

impl Styles {
    /// Real styles when `color`, else plain ones.
    pub fn new(color: bool) -> Self {
        if color {
            Self {
                heading: Style::new().bold(),
                grow: Style::new().red().bold(),
                dim: Style::new().dimmed(),
                path: Style::new().cyan(),
            }
        } else {
            Self {
                heading: Style::new(),
                grow: Style::new(),
                dim: Style::new(),
                path: Style::new(),
            }
        }
    }
}
