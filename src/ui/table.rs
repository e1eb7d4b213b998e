//! What every table shares: sortable headers, the search box, right-aligned cells, and the cache
//! of filtered and sorted rows that is rebuilt per store version, not per frame.

use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use egui::{Align, Layout, RichText};

/// While data streams in, a table re-sorts at most this often; a changed filter or sort
/// re-sorts at once. Just under the repaint pacer's gap, so each paced frame shows fresh rows
/// without asking for a frame of its own.
pub const REFRESH: Duration = Duration::from_millis(90);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort<C> {
    pub column: C,
    pub ascending: bool,
}

/// A header cell that sorts by its column when clicked (again: the other way round). The sorted
/// column shows a small triangle (the default fonts have no arrow glyphs).
pub fn header_ui<C: PartialEq + Copy>(ui: &mut egui::Ui, title: &str, column: C, sort: &mut Sort<C>) {
    let sorted = sort.column == column;
    let response = ui
        .add(egui::Button::new(RichText::new(title).strong()).frame(false))
        .on_hover_text("Sort");
    if sorted {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(8.0, 8.0), egui::Sense::hover());
        let color = ui.visuals().strong_text_color();
        let (top, bottom) = (rect.top(), rect.bottom());
        let points = if sort.ascending {
            vec![
                egui::pos2(rect.center().x, top),
                egui::pos2(rect.right(), bottom),
                egui::pos2(rect.left(), bottom),
            ]
        } else {
            vec![
                egui::pos2(rect.left(), top),
                egui::pos2(rect.right(), top),
                egui::pos2(rect.center().x, bottom),
            ]
        };
        ui.painter()
            .add(egui::Shape::convex_polygon(points, color, egui::Stroke::NONE));
    }
    if response.clicked() {
        if sorted {
            sort.ascending = !sort.ascending;
        } else {
            *sort = Sort {
                column,
                ascending: true,
            };
        }
    }
}

/// A table with a sortable header over `columns` (title, sort key, width); the caller adds the
/// body. Rows can be clicked when `clickable`.
pub fn sortable_table<'a, C: PartialEq + Copy>(
    ui: &'a mut egui::Ui,
    id: &str,
    columns: &[(&str, C, egui_extras::Column)],
    sort: &mut Sort<C>,
    clickable: bool,
) -> egui_extras::Table<'a> {
    let mut builder = egui_extras::TableBuilder::new(ui)
        .id_salt(id)
        .striped(true)
        .resizable(true)
        .cell_layout(Layout::left_to_right(Align::Center));
    if clickable {
        builder = builder.sense(egui::Sense::click());
    }
    for (_, _, column) in columns {
        builder = builder.column(*column);
    }
    builder.header(22.0, |mut header| {
        for (title, column, _) in columns {
            header.col(|ui| header_ui(ui, title, *column, sort));
        }
    })
}

/// A cell whose text hugs the right edge (numbers).
pub fn right_ui(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>) {
    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
        ui.label(text);
    });
}

/// The search box; `focus` moves the keyboard into it (Ctrl+F).
pub fn search_ui(ui: &mut egui::Ui, query: &mut String, hint: &str, focus: bool) -> egui::Response {
    let response = ui.add(
        egui::TextEdit::singleline(query)
            .hint_text(hint)
            .desired_width(220.0)
            .id_salt("table search"),
    );
    if focus {
        response.request_focus();
    }
    let focused = response.has_focus();
    ui.ctx()
        .data_mut(|data| data.insert_temp(search_focus_id(), focused));
    if !query.is_empty()
        && ui
            .small_button("×")
            .on_hover_text("Clear the search (Esc)")
            .clicked()
    {
        query.clear();
    }
    response
}

fn search_focus_id() -> egui::Id {
    egui::Id::unique("orderwatch search has focus")
}

/// Was a search box being typed in last frame? Then plain keys are text, not shortcuts. Call once
/// at the start of a frame: it forgets, and this frame's search box says again.
pub fn typing_in_search(ctx: &egui::Context) -> bool {
    ctx.data_mut(|data| data.remove_temp::<bool>(search_focus_id()).unwrap_or(false))
}

/// Does `haystack` contain `needle_lower` (already lower-case), ignoring ASCII case?
pub fn contains_ignore_case(haystack: &str, needle_lower: &str) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    let (haystack, needle) = (haystack.as_bytes(), needle_lower.as_bytes());
    haystack.len() >= needle.len()
        && haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

/// Filtered, sorted row keys, rebuilt when the query changes or (at most every `REFRESH`) when
/// the data does.
#[derive(Debug)]
pub struct RowCache<K> {
    pub rows: Vec<K>,
    built_for: Option<(u64, u64)>,
    built_at: Option<Instant>,
}

impl<K> Default for RowCache<K> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            built_for: None,
            built_at: None,
        }
    }
}

/// Sorts rows by the chosen column: the time column by `time_key`, worked out once per row (it
/// may parse a date), any other by `compare`.
pub fn sort_rows<T, C: PartialEq + Copy, K: Ord>(
    rows: &mut [T],
    sort: Sort<C>,
    time_column: C,
    time_key: impl FnMut(&T) -> K,
    compare: impl Fn(&T, &T, C) -> std::cmp::Ordering,
) {
    if sort.column == time_column {
        rows.sort_by_cached_key(time_key);
        if !sort.ascending {
            rows.reverse();
        }
    } else {
        rows.sort_unstable_by(|a, b| {
            let ordering = compare(a, b, sort.column);
            if sort.ascending {
                ordering
            } else {
                ordering.reverse()
            }
        });
    }
}

/// A hash of whatever decides the rows (filters, sort).
pub fn query_hash(query: &impl Hash) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    query.hash(&mut hasher);
    hasher.finish()
}

impl<K> RowCache<K> {
    /// Rebuilds with `build` if due. Returns how long until a pending refresh is due, so the
    /// caller can ask for a repaint then.
    pub fn refresh(
        &mut self,
        version: u64,
        query: u64,
        now: Instant,
        build: impl FnOnce() -> Vec<K>,
    ) -> Option<Duration> {
        let due = match (self.built_for, self.built_at) {
            (Some((built_version, built_query)), Some(at)) if built_query == query => {
                if built_version == version {
                    return None;
                }
                let next = at + REFRESH;
                if now < next {
                    return Some(next - now);
                }
                true
            }
            _ => true,
        };
        if due {
            self.rows = build();
            self.built_for = Some((version, query));
            self.built_at = Some(now);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_ignores_case() {
        assert!(contains_ignore_case("NSE:RELIANCE-EQ", "relia"));
        assert!(contains_ignore_case("anything", ""));
        assert!(!contains_ignore_case("NSE:TCS-EQ", "infy"));
    }

    #[test]
    fn rows_rebuild_at_once_for_a_new_query_and_at_most_every_refresh_for_new_data() {
        let mut cache = RowCache::default();
        let start = Instant::now();
        let mut builds = 0;
        let mut build = |n| {
            builds += 1;
            vec![n]
        };
        assert_eq!(cache.refresh(1, 7, start, || build(1)), None);
        assert_eq!(
            cache.refresh(1, 7, start, || build(2)),
            None,
            "same version: cached"
        );
        let wait = cache.refresh(2, 7, start + Duration::from_millis(10), || build(3));
        assert_eq!(
            wait,
            Some(REFRESH - Duration::from_millis(10)),
            "new data waits for the refresh"
        );
        assert_eq!(
            cache.refresh(2, 8, start + Duration::from_millis(20), || build(4)),
            None,
            "new query: now"
        );
        assert_eq!(cache.rows, vec![4]);
        assert_eq!(cache.refresh(3, 8, start + REFRESH * 2, || build(5)), None);
        assert_eq!(cache.rows, vec![5]);
        assert_eq!(builds, 3);
    }
}
