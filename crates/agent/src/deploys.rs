//! Deploys seen from the engine: a dyno's container (one stable name, see
//! [`crate::labels::stable_name`]) replaced by a newer one becomes an `event=deploy` line in the
//! app's event stream, with the old and new container, image and image id, and how long the
//! switch took (from the new container's creation to the old one's end):
//!
//! `event=deploy container=shop.web.1 id=9c1b… old_id=3f2a… image=dokku/shop:latest
//! image_id=5e6f… old_image=dokku/shop:latest old_image_id=1a2b… took=8.2s`
//!
//! Dokku starts the new container (`shop.web.1.upcoming-4242`) beside the old one, renames both
//! once its checks pass and then stops the old one: the deploy is recorded at the old one's
//! `die`. When the old one was already gone before the new one started (compose's recreate, a
//! crashed dyno replaced), it is recorded at the new one's start.

use std::collections::HashMap;

use model::{Entry, Labels};

use crate::events::{logfmt_value, stream_labels};
use crate::labels::{ContainerInfo, LabelMaker, stable_name};

#[derive(Debug, Clone)]
struct Container {
    info: ContainerInfo,
    running: bool,
}

#[derive(Debug)]
struct Slot {
    current: Container,
    /// A newer container started while the current one still runs.
    next: Option<Container>,
}

/// The containers of each stable name, fed with inspected containers and `die` events.
#[derive(Default)]
pub struct Deploys {
    slots: HashMap<String, Slot>,
}

/// Only long-running containers take part: Dokku's `run` and `cron` containers, build and
/// phase-task containers come and go without replacing anything.
fn tracked(c: &ContainerInfo) -> bool {
    let label = |k: &str| c.labels.get(k).map(String::as_str).unwrap_or("");
    matches!(label("com.dokku.container-type"), "" | "deploy")
        && label("com.dokku.image-stage").is_empty()
        && label("dokku_phase_script").is_empty()
}

impl Deploys {
    /// A container's current facts (inspected after create, start, rename, or a resync); `now_ns`
    /// is when, for a deploy recorded at the new container's start.
    pub fn observe(&mut self, maker: &LabelMaker, info: &ContainerInfo, now_ns: i64) -> Option<(Labels, Entry)> {
        if !tracked(info) || info.created_ns == 0 {
            return None;
        }
        let key = stable_name(info);
        let c = Container { info: info.clone(), running: info.running };
        let Some(slot) = self.slots.get_mut(&key) else {
            if c.running {
                self.slots.insert(key, Slot { current: c, next: None });
            }
            return None;
        };
        if slot.current.info.id == info.id {
            slot.current = c;
            return None;
        }
        if slot.next.as_ref().is_some_and(|n| n.info.id == info.id) {
            slot.next = Some(c);
            return None;
        }
        if !c.running {
            return None;
        }
        if c.info.created_ns < slot.current.info.created_ns {
            // An older one seen late (the list at start is newest first): it is the current one.
            let newer = std::mem::replace(&mut slot.current, c);
            if newer.running && slot.next.is_none() {
                slot.next = Some(newer);
            }
            return None;
        }
        if slot.current.running {
            slot.next = Some(c);
            return None;
        }
        // The old one had already stopped: the new one replaces it as it starts.
        let old = std::mem::replace(&mut slot.current, c);
        slot.next = None;
        line(maker, &old.info, &slot.current.info, now_ns)
    }

    /// A container ended (`die` at `ts` ns): if a newer one of its name runs, that was a deploy.
    pub fn died(&mut self, maker: &LabelMaker, id: &str, ts: i64) -> Option<(Labels, Entry)> {
        let slot = self
            .slots
            .values_mut()
            .find(|s| s.current.info.id == id || s.next.as_ref().is_some_and(|n| n.info.id == id))?;
        if slot.current.info.id != id {
            // The new one died before taking over (a failed deploy): the old one stays.
            slot.next = None;
            return None;
        }
        slot.current.running = false;
        let next = slot.next.take()?;
        let old = std::mem::replace(&mut slot.current, next);
        line(maker, &old.info, &slot.current.info, ts)
    }

    /// A container was removed.
    pub fn gone(&mut self, id: &str) {
        self.slots.retain(|_, s| {
            if s.next.as_ref().is_some_and(|n| n.info.id == id) {
                s.next = None;
            }
            if s.current.info.id == id {
                match s.next.take() {
                    Some(n) => s.current = n,
                    None => return false,
                }
            }
            true
        });
    }
}

fn short(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// A Go duration with a tenth of a second's precision (`8.2s`, `1m3.5s`).
fn took(ns: i64) -> String {
    let tenths = ns.max(0) / 100_000_000;
    let (m, s) = (tenths / 600, tenths % 600);
    if m > 0 { format!("{m}m{}.{}s", s / 10, s % 10) } else { format!("{}.{}s", s / 10, s % 10) }
}

fn line(maker: &LabelMaker, old: &ContainerInfo, new: &ContainerInfo, ts: i64) -> Option<(Labels, Entry)> {
    let labels = stream_labels(maker, new)?;
    let pairs = [
        ("event", "deploy".to_string()),
        ("container", stable_name(new)),
        ("id", short(&new.id)),
        ("old_id", short(&old.id)),
        ("image", new.image.clone()),
        ("image_id", short(&new.image_id)),
        ("old_image", old.image.clone()),
        ("old_image_id", short(&old.image_id)),
        ("took", took(ts - new.created_ns)),
    ];
    let text = pairs.iter().map(|(k, v)| format!("{k}={}", logfmt_value(v))).collect::<Vec<_>>().join(" ");
    Some((labels, Entry::new(ts, text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn maker() -> LabelMaker {
        LabelMaker::new(&crate::AgentConfig::default(), "h1".into()).unwrap()
    }

    fn ctr(id: &str, name: &str, image_id: &str, created: i64, running: bool) -> ContainerInfo {
        let labels = [
            ("com.dokku.app-name", "shop"),
            ("com.dokku.process-type", "web"),
            ("com.dokku.dyno", "web.1"),
            ("com.dokku.container-type", "deploy"),
        ];
        ContainerInfo {
            id: id.into(),
            name: name.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            image: "dokku/shop:latest".into(),
            image_id: format!("sha256:{image_id}"),
            created_ns: created,
            running,
            ..Default::default()
        }
    }

    #[test]
    fn dokku_deploy_is_recorded_when_the_old_container_stops() {
        let (m, mut d) = (maker(), Deploys::default());
        let old = ctr("aaaaaaaaaaaa11", "shop.web.1", "111111111111ff", 10 * S, true);
        assert!(d.observe(&m, &old, 11 * S).is_none());
        let new = ctr("bbbbbbbbbbbb22", "shop.web.1.upcoming-4242", "222222222222ff", 100 * S, true);
        assert!(d.observe(&m, &new, 101 * S).is_none());
        // Renames and resyncs change nothing.
        let mut renamed = old.clone();
        renamed.name = "shop.web.1.1796163789".into();
        assert!(d.observe(&m, &renamed, 110 * S).is_none());
        assert!(d.observe(&m, &new, 110 * S).is_none());
        let (l, e) = d.died(&m, "aaaaaaaaaaaa11", 108 * S + 250_000_000).unwrap();
        assert_eq!(l.to_string(), r#"{app="shop", host="h1", process_type="web", source="docker"}"#);
        assert_eq!(
            e.line,
            "event=deploy container=shop.web.1 id=bbbbbbbbbbbb old_id=aaaaaaaaaaaa image=dokku/shop:latest \
             image_id=222222222222 old_image=dokku/shop:latest old_image_id=111111111111 took=8.2s"
        );
        assert_eq!(e.ts, 108 * S + 250_000_000);
        // The next deploy replaces the new one.
        let third = ctr("cccccccccccc33", "shop.web.1.upcoming-1", "333333333333ff", 200 * S, true);
        assert!(d.observe(&m, &third, 201 * S).is_none());
        assert!(d.died(&m, "aaaaaaaaaaaa11", 202 * S).is_none(), "the old container is not the current one");
        let (_, e) = d.died(&m, "bbbbbbbbbbbb22", 263 * S).unwrap();
        assert!(
            e.line.contains("id=cccccccccccc old_id=bbbbbbbbbbbb") && e.line.ends_with("took=1m3.0s"),
            "{}",
            e.line
        );
    }

    #[test]
    fn failed_deploys_crashes_and_other_containers() {
        let (m, mut d) = (maker(), Deploys::default());
        let old = ctr("aaaa", "shop.web.1", "1111", 10 * S, true);
        d.observe(&m, &old, 11 * S);
        // A new container whose checks fail dies first: no deploy, the old one stays.
        let bad = ctr("bbbb", "shop.web.1.upcoming-1", "2222", 20 * S, true);
        d.observe(&m, &bad, 21 * S);
        assert!(d.died(&m, "bbbb", 30 * S).is_none());
        d.gone("bbbb");
        assert!(d.died(&m, "aaaa", 40 * S).is_none(), "a crash without a successor is no deploy");
        // A replacement started after the old one ended is recorded as it starts.
        let next = ctr("cccc", "shop.web.1", "3333", 50 * S, true);
        let (_, e) = d.observe(&m, &next, 52 * S).unwrap();
        assert!(e.line.contains("id=cccc old_id=aaaa") && e.line.ends_with("took=2.0s"), "{}", e.line);
        // A one-off `dokku run` container is not part of it.
        let mut run = ctr("dddd", "shop.run.1", "4444", 60 * S, true);
        run.labels.insert("com.dokku.container-type".into(), "run".into());
        assert!(d.observe(&m, &run, 61 * S).is_none());
        assert!(d.died(&m, "cccc", 62 * S).is_none());
    }

    #[test]
    fn at_start_the_older_of_two_running_containers_is_the_current_one() {
        let (m, mut d) = (maker(), Deploys::default());
        let new = ctr("bbbb", "shop.web.1.upcoming-1", "2222", 20 * S, true);
        let old = ctr("aaaa", "shop.web.1", "1111", 10 * S, true);
        assert!(d.observe(&m, &new, 30 * S).is_none());
        assert!(d.observe(&m, &old, 30 * S).is_none());
        let (_, e) = d.died(&m, "aaaa", 35 * S).unwrap();
        assert!(e.line.contains("id=bbbb old_id=aaaa"), "{}", e.line);
    }
}
