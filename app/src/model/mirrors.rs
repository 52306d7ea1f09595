//! Download mirrors: URL templates, and a weighted, per-device stable choice among them so that
//! downloads spread over many servers instead of one (the seed's 600 GB problem).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const PLACEHOLDERS: [&str; 4] = ["{dist}", "{branch}", "{version}", "{board}"];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mirror {
    pub id: i64,
    pub url_template: String,
    pub weight: u32,
}

/// The values a template is filled with.
pub struct MirrorVars<'a> {
    pub dist: &'a str,
    pub branch: &'a str,
    pub version: &'a str,
    pub board: &'a str,
}

/// An http(s) URL whose only `{…}` placeholders are the four known ones.
pub fn check_template(template: &str) -> Result<(), String> {
    if !(template.starts_with("https://") || template.starts_with("http://")) {
        return Err("must start with http:// or https://".into());
    }
    if template.len() > 512 {
        return Err("must be at most 512 characters".into());
    }
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| "has a '{' without its '}'".to_string())?;
        let placeholder = &rest[open..open + close + 1];
        if !PLACEHOLDERS.contains(&placeholder) {
            return Err(format!(
                "unknown placeholder {placeholder}; use {{dist}}, {{branch}}, {{version}} or {{board}}"
            ));
        }
        rest = &rest[open + close + 1..];
    }
    if template
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("must not contain spaces".into());
    }
    Ok(())
}

pub fn render(template: &str, vars: &MirrorVars<'_>) -> String {
    template
        .replace("{dist}", vars.dist)
        .replace("{branch}", vars.branch)
        .replace("{version}", vars.version)
        .replace("{board}", vars.board)
        .trim_end_matches('/')
        .to_string()
}

/// The mirrors in this device's order of preference: weighted rendezvous hashing, so each
/// device keeps its mirror while the set is unchanged, a mirror of weight 2 gets about twice the
/// devices of one of weight 1, and removing a mirror moves only the devices that were on it.
pub fn order_for_device<'a>(uuid: &str, mirrors: &'a [Mirror]) -> Vec<&'a Mirror> {
    let mut scored: Vec<(f64, &Mirror)> = mirrors
        .iter()
        .filter(|m| m.weight > 0)
        .map(|m| (score(uuid, m), m))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    scored.into_iter().map(|(_, m)| m).collect()
}

fn score(uuid: &str, mirror: &Mirror) -> f64 {
    let digest = Sha256::digest(format!("{}:{uuid}", mirror.id).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // A uniform draw in (0, 1); -ln of it is exponential, and weight / that is the weighted score.
    let draw = (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64;
    let draw = draw.max(f64::MIN_POSITIVE);
    f64::from(mirror.weight) / -draw.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirrors(weights: &[u32]) -> Vec<Mirror> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| Mirror {
                id: i as i64 + 1,
                url_template: format!("https://m{i}.example/{{version}}"),
                weight: *w,
            })
            .collect()
    }

    #[test]
    fn templates_are_filled_with_the_build() {
        let vars = MirrorVars {
            dist: "recalbox",
            branch: "master",
            version: "master-2017-08-26-891011",
            board: "rpi3",
        };
        assert_eq!(
            render("https://{version}-archive.example/{dist}/{board}/", &vars),
            "https://master-2017-08-26-891011-archive.example/recalbox/rpi3"
        );
    }

    #[test]
    fn only_http_templates_with_known_placeholders_are_accepted() {
        assert!(check_template("https://m.example/{dist}/{branch}/{version}/{board}").is_ok());
        assert!(check_template("ftp://m.example").is_err());
        assert!(check_template("https://m.example/{arch}")
            .unwrap_err()
            .contains("{arch}"));
        assert!(check_template("https://m.example/{dist").is_err());
    }

    #[test]
    fn a_device_keeps_its_mirror() {
        let set = mirrors(&[1, 1, 1]);
        let first = order_for_device("012456789", &set)[0].id;
        for _ in 0..10 {
            assert_eq!(order_for_device("012456789", &set)[0].id, first);
        }
        assert_eq!(order_for_device("012456789", &set).len(), 3);
    }

    #[test]
    fn devices_spread_over_mirrors_by_weight() {
        let set = mirrors(&[1, 3]);
        let mut counts = [0usize; 2];
        for n in 0..4000 {
            let chosen = order_for_device(&format!("device-{n}"), &set)[0].id;
            counts[(chosen - 1) as usize] += 1;
        }
        // Expected 1000 and 3000; allow sampling noise.
        assert!((800..1200).contains(&counts[0]), "{counts:?}");
        assert!((2800..3200).contains(&counts[1]), "{counts:?}");
    }

    #[test]
    fn removing_a_mirror_moves_only_its_devices() {
        let full = mirrors(&[1, 1, 1]);
        let without_third: Vec<Mirror> = full.iter().filter(|m| m.id != 3).cloned().collect();
        for n in 0..500 {
            let uuid = format!("device-{n}");
            let before = order_for_device(&uuid, &full)[0].id;
            let after = order_for_device(&uuid, &without_third)[0].id;
            if before != 3 {
                assert_eq!(before, after);
            }
        }
    }

    #[test]
    fn mirrors_of_weight_zero_are_never_chosen() {
        let set = mirrors(&[0, 1]);
        assert!(order_for_device("x", &set).iter().all(|m| m.id == 2));
    }
}
