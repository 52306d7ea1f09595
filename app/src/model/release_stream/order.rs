//! The order of releases: integers numerically, then other names naturally, then the rolling
//! release `0`.

use std::cmp::Ordering;

/// Where a release sorts: integers numerically, then other names in natural order, then the
/// rolling release `0` (Rawhide), which is newer than every numbered one.
pub fn release_cmp(a: &str, b: &str) -> Ordering {
    release_rank(a)
        .cmp(&release_rank(b))
        .then_with(|| match (is_integer(a), is_integer(b)) {
            (true, true) => digits_cmp(a, b),
            _ => natural_cmp(a, b),
        })
        .then_with(|| a.cmp(b))
}

fn release_rank(release: &str) -> u8 {
    if is_integer(release) && release.trim_start_matches('0').is_empty() {
        2
    } else if is_integer(release) {
        0
    } else {
        1
    }
}

pub(super) fn is_integer(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Compares two runs of digits by value without parsing (they may exceed u64).
fn digits_cmp(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// "f9" < "f10": runs of digits compare by value, the rest character by character.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let an = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                let bn = b.find(|c: char| !c.is_ascii_digit()).unwrap_or(b.len());
                match digits_cmp(&a[..an], &b[..bn]) {
                    Ordering::Equal => {
                        a = &a[an..];
                        b = &b[bn..];
                    }
                    other => return other,
                }
            }
            (Some(x), Some(y)) => match x.cmp(&y) {
                Ordering::Equal => {
                    a = &a[x.len_utf8()..];
                    b = &b[y.len_utf8()..];
                }
                other => return other,
            },
        }
    }
}
