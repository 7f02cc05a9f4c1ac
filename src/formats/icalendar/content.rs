//! The content of an iCalendar file as a tree of components, read by the `icalendar` crate's
//! parser, with the file line every component and property starts on.
//!
//! The crate parses the unfolded text; this module unfolds it itself so that it knows where each
//! unfolded line came from, then finds a property's line from where its name lies in that text.

use super::LineError;
use crate::domain::parallel::Parallelism;

/// A component (`VCALENDAR`, `VEVENT`, `VTIMEZONE`, `STANDARD`, ...) with its properties and
/// the components inside it, borrowed from the unfolded text. Names compare without case.
#[derive(Debug)]
pub struct Component<'u> {
    pub name: &'u str,
    pub line: usize,
    pub properties: Vec<Property<'u>>,
    pub components: Vec<Component<'u>>,
}

/// A property, its parameters (values unquoted) and its value as written.
#[derive(Clone, Debug)]
pub struct Property<'u> {
    pub name: &'u str,
    pub line: usize,
    pub parameters: Vec<(&'u str, &'u str)>,
    /// Borrowed, unless the parser had to unescape it (a TEXT value with `\,` and the like).
    pub value: std::borrow::Cow<'u, str>,
}

impl<'u> Component<'u> {
    /// Whether the component is called `name` (upper case).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The first property called `name` (upper case).
    pub fn property(&self, name: &str) -> Option<&Property<'u>> {
        self.properties.iter().find(|property| property.name.eq_ignore_ascii_case(name))
    }

    /// Every property called `name` (upper case).
    pub fn properties_named<'c>(&'c self, name: &'c str) -> impl Iterator<Item = &'c Property<'u>> + 'c {
        self.properties.iter().filter(move |property| property.name.eq_ignore_ascii_case(name))
    }
}

impl Property<'_> {
    /// The value of parameter `name` (upper case), if the property has it.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| *value)
    }
}

/// The text unfolded (RFC 5545 3.1: a line that starts with a space or tab continues the one
/// before it), and the file line each unfolded line starts on. Lines end in CRLF whatever the
/// file used: the parser looks for CRLF first, and on a file of bare LFs that search would run
/// to the end of the text for every property (quadratic: minutes for 100,000 events).
pub struct Unfolded {
    text: String,
    /// Byte offset of each unfolded line in `text`, with its 1-based file line.
    starts: Vec<(usize, usize)>,
}

pub fn unfold(text: &str) -> Unfolded {
    let mut unfolded = Unfolded { text: String::with_capacity(text.len()), starts: Vec::new() };
    for (line_idx, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.strip_prefix([' ', '\t']) {
            Some(continuation) if !unfolded.starts.is_empty() => unfolded.text.push_str(continuation),
            _ => {
                if raw.trim().is_empty() {
                    continue;
                }
                if !unfolded.starts.is_empty() {
                    unfolded.text.push_str("\r\n");
                }
                unfolded.starts.push((unfolded.text.len(), line_idx + 1));
                unfolded.text.push_str(raw);
            }
        }
    }
    unfolded.text.push_str("\r\n");
    unfolded
}

impl Unfolded {
    /// The file line of a slice of `text`, or `fallback` for text that is not in it (a value the
    /// parser had to copy).
    fn line_of(&self, slice: &str, fallback: usize) -> usize {
        let Some(offset) = self.offset_of(slice) else { return fallback };
        let idx = self.starts.partition_point(|(start, _)| *start <= offset);
        idx.checked_sub(1).map_or(fallback, |idx| self.starts[idx].1)
    }

    /// `piece` as a slice of the unfolded text when it is one (the parser's slices are), else
    /// empty.
    fn slice<'u>(&'u self, piece: &str) -> &'u str {
        self.offset_of(piece).map_or("", |offset| &self.text[offset..offset + piece.len()])
    }

    /// Where `piece` lies in the unfolded text, when it is a slice of it.
    fn offset_of(&self, piece: &str) -> Option<usize> {
        let offset = (piece.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        (offset + piece.len() <= self.text.len()).then_some(offset)
    }

    /// Unfolded line `idx`, without its line ending.
    fn line_text(&self, idx: usize) -> &str {
        let from = self.starts[idx].0;
        let to = self.starts.get(idx + 1).map_or(self.text.len(), |(offset, _)| *offset);
        self.text[from..to].trim_end_matches(['\r', '\n'])
    }

    /// The file line of the parser's 1-based line of the unfolded text.
    fn file_line(&self, unfolded_line: usize) -> usize {
        unfolded_line.checked_sub(1).and_then(|idx| self.starts.get(idx)).map_or(unfolded_line, |(_, line)| *line)
    }
}

/// Every top-level component of the file (normally one `VCALENDAR`), or why the file is not
/// iCalendar. The components inside a `VCALENDAR` are parsed apart, on every core: the
/// calendar's own properties are plain lines, and its events are most of the work.
pub fn read_components(unfolded: &Unfolded) -> Result<Vec<Component<'_>>, LineError> {
    if unfolded.starts.is_empty() {
        return Err(LineError { line: 1, message: "the file is empty".into() });
    }
    let Some(roots) = outline(unfolded) else {
        // Unbalanced BEGIN and END lines: the parser says where.
        return parse_block(unfolded, 0, unfolded.starts.len()).map(|component| vec![component]);
    };
    let blocks: Vec<(usize, usize)> = roots
        .iter()
        .flat_map(|root| match root {
            Root::Calendar { children, .. } => children.clone(),
            Root::Other(begin, end) => vec![(*begin, *end)],
        })
        .collect();
    let n_threads = std::thread::available_parallelism().unwrap_or(std::num::NonZeroUsize::MIN);
    let mut parsed = Parallelism::new(n_threads)
        .map_in_order(&blocks, |(begin, end)| parse_block(unfolded, *begin, *end))
        .into_iter();
    let mut components = Vec::with_capacity(roots.len());
    for root in &roots {
        match root {
            Root::Calendar { begin, properties, children, .. } => {
                let children = parsed.by_ref().take(children.len()).collect::<Result<Vec<_>, _>>()?;
                components.push(Component {
                    name: unfolded.line_text(*begin).split_once(':').map_or("VCALENDAR", |(_, name)| name.trim()),
                    line: unfolded.starts[*begin].1,
                    properties: properties.iter().filter_map(|idx| plain_property(unfolded, *idx)).collect(),
                    components: children,
                });
            }
            Root::Other(..) => components.push(parsed.next().expect("one result per block")?),
        }
    }
    Ok(components)
}

/// A top-level component: a calendar with its own property lines and the line ranges of its
/// children, or anything else, parsed whole. Ranges are of unfolded lines, end excluded.
enum Root {
    Calendar { begin: usize, properties: Vec<usize>, children: Vec<(usize, usize)> },
    Other(usize, usize),
}

/// The file's top-level components, or `None` when its BEGIN and END lines do not pair up.
fn outline(unfolded: &Unfolded) -> Option<Vec<Root>> {
    let mut roots = Vec::new();
    let mut depth = 0usize;
    let (mut root_begin, mut child_begin) = (0, 0);
    let mut is_calendar = false;
    let (mut properties, mut children) = (Vec::new(), Vec::new());
    for idx in 0..unfolded.starts.len() {
        let line = unfolded.line_text(idx);
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        if name.eq_ignore_ascii_case("BEGIN") {
            if depth == 0 {
                root_begin = idx;
                is_calendar = value.trim().eq_ignore_ascii_case("VCALENDAR");
                properties.clear();
                children.clear();
            } else if depth == 1 {
                child_begin = idx;
            }
            depth += 1;
        } else if name.eq_ignore_ascii_case("END") {
            depth = depth.checked_sub(1)?;
            if depth == 1 {
                children.push((child_begin, idx + 1));
            } else if depth == 0 {
                roots.push(if is_calendar {
                    Root::Calendar {
                        begin: root_begin,
                        properties: std::mem::take(&mut properties),
                        children: std::mem::take(&mut children),
                    }
                } else {
                    Root::Other(root_begin, idx + 1)
                });
            }
        } else if depth == 1 {
            properties.push(idx);
        } else if depth == 0 {
            return None;
        }
    }
    (depth == 0).then_some(roots)
}

/// Unfolded lines `begin..end` through the parser: one component.
fn parse_block(unfolded: &Unfolded, begin: usize, end: usize) -> Result<Component<'_>, LineError> {
    let from = unfolded.starts[begin].0;
    let to = unfolded.starts.get(end).map_or(unfolded.text.len(), |(offset, _)| *offset);
    let text = &unfolded.text[from..to];
    let parsed = icalendar::parser::read_components(text).map_err(|error| {
        // The parser names the block's line as "at line N"; the file's own line is what helps.
        let line = error
            .split("at line ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse::<usize>().ok())
            .map_or(unfolded.starts[begin].1, |block_line| unfolded.file_line(begin + block_line));
        let reason = error.lines().find(|line| !line.trim().is_empty()).unwrap_or("").trim();
        LineError { line, message: format!("not iCalendar as RFC 5545 writes it ({reason})") }
    })?;
    let line = unfolded.starts[begin].1;
    match parsed.as_slice() {
        [component] => Ok(borrowed(component, unfolded, line)),
        _ => Err(LineError {
            line,
            message: "not iCalendar as RFC 5545 writes it (a component's lines do not pair up)".into(),
        }),
    }
}

/// A calendar's own property line (`X-WR-CALNAME:...`, `X-EEA-AGENT-ID;X=Y:...`), read as RFC
/// 5545 writes one: the name, parameters up to the first colon outside quotes, then the value.
fn plain_property(unfolded: &Unfolded, idx: usize) -> Option<Property<'_>> {
    let line = unfolded.line_text(idx);
    let mut in_quotes = false;
    let colon = line.char_indices().find_map(|(at, c)| match c {
        '"' => {
            in_quotes = !in_quotes;
            None
        }
        ':' if !in_quotes => Some(at),
        _ => None,
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim();
    let parameters = parts
        .filter_map(|part| part.split_once('='))
        .map(|(key, value)| (key.trim(), value.trim().trim_matches('"')))
        .collect();
    Some(Property { name, line: unfolded.starts[idx].1, parameters, value: std::borrow::Cow::Borrowed(value) })
}

/// The parser's component as slices of the unfolded text (a value the parser had to unescape
/// is copied).
fn borrowed<'u>(
    component: &icalendar::parser::Component<'_>,
    unfolded: &'u Unfolded,
    parent_line: usize,
) -> Component<'u> {
    let line = unfolded.line_of(component.name.as_str(), parent_line);
    let properties = component
        .properties
        .iter()
        .map(|property| Property {
            name: unfolded.slice(property.name.as_str()),
            line: unfolded.line_of(property.name.as_str(), line),
            parameters: property
                .params
                .iter()
                .map(|parameter| {
                    let value = parameter.val.as_ref().map_or("", |value| unfolded.slice(value.as_str()));
                    (unfolded.slice(parameter.key.as_str()), value)
                })
                .collect(),
            value: match unfolded.slice(property.val.as_str()) {
                "" if !property.val.as_str().is_empty() => std::borrow::Cow::Owned(property.val.as_str().to_owned()),
                slice => std::borrow::Cow::Borrowed(slice),
            },
        })
        .collect();
    let components = component.components.iter().map(|child| borrowed(child, unfolded, line)).collect();
    Component { name: unfolded.slice(component.name.as_str()), line, properties, components }
}
