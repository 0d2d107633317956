//! A small parser of the OpenMetrics text `tagwatch run` serves on `/metrics`: the
//! declared families with their types, and every sample with its labels and value.
//! It checks what a scraper relies on (a `# TYPE` before a family's samples, numeric
//! values, a final `# EOF`) and fails with the offending line otherwise.

use std::collections::BTreeMap;

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition.
#[derive(Clone, Debug, Default)]
pub struct Scrape {
    /// Family name -> type (`counter`, `gauge`, `histogram`, `info`, ...).
    pub families: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Parses `text`; the error names the line that is not OpenMetrics.
    pub fn parse(text: &str) -> Result<Scrape, String> {
        let mut scrape = Scrape::default();
        let mut saw_eof = false;
        for line in text.lines() {
            if saw_eof {
                return Err(format!("text after # EOF: {line:?}"));
            }
            if line == "# EOF" {
                saw_eof = true;
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest
                    .split_once(' ')
                    .ok_or_else(|| format!("bad TYPE line {line:?}"))?;
                scrape.families.insert(name.to_string(), kind.to_string());
            } else if line.starts_with("# HELP ") || line.starts_with("# UNIT ") {
                continue;
            } else {
                let sample = parse_sample(line)?;
                if !scrape
                    .families
                    .keys()
                    .any(|family| sample.name.starts_with(family.as_str()))
                {
                    return Err(format!("sample before its # TYPE: {line:?}"));
                }
                scrape.samples.push(sample);
            }
        }
        if !saw_eof {
            return Err("no final # EOF".to_string());
        }
        Ok(scrape)
    }

    /// The sum of the samples named `name` whose labels include `labels`, or `None`
    /// when there is no such sample.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<f64> = self
            .samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .collect();
        (!matching.is_empty()).then(|| matching.iter().sum())
    }

    /// Like [`Scrape::value`], 0 when absent.
    pub fn value_or_zero(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or(0.0)
    }

    /// The names a user queries: `<family>_total` for counters, `<family>_info` for
    /// info metrics, the family name otherwise.
    pub fn queried_names(&self) -> Vec<String> {
        self.families
            .iter()
            .map(|(family, kind)| match kind.as_str() {
                "counter" => format!("{family}_total"),
                "info" => format!("{family}_info"),
                _ => family.clone(),
            })
            .collect()
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let bad = || format!("not a sample line: {line:?}");
    let (series, value) = line.rsplit_once(' ').ok_or_else(bad)?;
    let value: f64 = value.parse().map_err(|_| bad())?;
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}').ok_or_else(bad)?)?),
        None => (series, BTreeMap::new()),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once("=\"")
            .ok_or_else(|| format!("bad labels {text:?}"))?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("bad escape in {text:?}")),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => return Err(format!("unterminated label value in {text:?}")),
            }
        };
        labels.insert(key.trim_start_matches(',').to_string(), value);
        rest = &after[end + 1..];
    }
    Ok(labels)
}
