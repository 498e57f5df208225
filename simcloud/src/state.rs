//! The sim cloud's state machine: events change it, and wall-clock time moves copies along.
//!
//! Every change is an [`Event`] stamped with a time. [`State::exec`] first advances copies to
//! that time, then applies the event, so replaying the journal reproduces the exact same
//! state, and copies keep progressing by wall clock while the sim is down: time is what
//! moves them, not a background task.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::config::Faults;
use crate::model::{Account, Image, Status};

/// At most this many copies run at once into one region; more wait.
pub const MAX_RUNNING_PER_REGION: usize = imagenest_cloud::MAX_CONCURRENT_COPIES_PER_REGION;

/// What a `ClientToken` was first used for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEntry {
    pub fingerprint: String,
    pub image_id: String,
}

/// One change of state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Event {
    /// A new account.
    Account {
        account: Account,
    },
    /// A new image that exists at once (seeded vendor or marketplace image).
    Image {
        image: Image,
    },
    /// A copy request: the new image starts `Waiting` in its region's queue.
    Copy {
        image: Image,
        token: Option<(String, TokenEntry)>,
    },
    Share {
        image_id: String,
        add: Vec<String>,
        remove: Vec<String>,
        public: Option<bool>,
    },
    Delete {
        image_id: String,
    },
    Cancel {
        image_id: String,
    },
    /// New fault settings (kept, so they survive a restart).
    Faults {
        faults: Faults,
    },
}

#[derive(Debug, Default, Clone)]
struct RegionQueue {
    running: Vec<String>,
    waiting: VecDeque<String>,
}

/// Accounts, images and idempotency tokens, plus the derived per-region copy queues.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct State {
    /// By account name.
    pub accounts: BTreeMap<String, Account>,
    /// By image ID.
    pub images: BTreeMap<String, Image>,
    /// By `account_id/ClientToken`.
    pub tokens: HashMap<String, TokenEntry>,
    pub next_seq: u64,
    /// The latest time the state was advanced to.
    pub now_ms: u64,
    /// The injected faults in force.
    #[serde(default)]
    pub faults: Faults,
    /// Per region, the most copies ever in progress at once (running and waiting): what a
    /// client that respects the region's copy limit keeps at or under it.
    #[serde(default)]
    pub peak_in_progress: BTreeMap<String, usize>,
    /// Per `region/image name`, how many images CopyImage created (a retried call that its
    /// ClientToken matched creates none): more than one is a duplicate copy.
    #[serde(default)]
    pub copies_made: BTreeMap<String, u32>,
    #[serde(skip)]
    queues: HashMap<String, RegionQueue>,
    #[serde(skip)]
    by_access_key: HashMap<String, String>,
    #[serde(skip)]
    by_account_id: HashMap<String, String>,
}

impl State {
    /// Rebuilds the indexes a snapshot does not carry.
    pub fn reindex(&mut self) {
        self.queues.clear();
        self.by_access_key.clear();
        self.by_account_id.clear();
        for a in self.accounts.values() {
            self.by_access_key
                .insert(a.access_key_id.clone(), a.name.clone());
            self.by_account_id
                .insert(a.account_id.clone(), a.name.clone());
        }
        let mut waiting: Vec<(u64, &Image)> = Vec::new();
        for img in self.images.values() {
            match (img.status, &img.copy) {
                (Status::Creating, Some(_)) => self
                    .queues
                    .entry(img.region.clone())
                    .or_default()
                    .running
                    .push(img.id.clone()),
                (Status::Waiting, Some(c)) => waiting.push((c.seq, img)),
                _ => {}
            }
        }
        waiting.sort_by_key(|(seq, _)| *seq);
        for (_, img) in waiting {
            self.queues
                .entry(img.region.clone())
                .or_default()
                .waiting
                .push_back(img.id.clone());
        }
    }

    pub fn account_by_key(&self, access_key_id: &str) -> Option<&Account> {
        self.by_access_key
            .get(access_key_id)
            .and_then(|n| self.accounts.get(n))
    }

    pub fn account_name_by_id(&self, account_id: &str) -> Option<&str> {
        self.by_account_id.get(account_id).map(String::as_str)
    }

    /// Copies running and waiting in a region.
    pub fn queue_lengths(&self, region: &str) -> (usize, usize) {
        self.queues
            .get(region)
            .map_or((0, 0), |q| (q.running.len(), q.waiting.len()))
    }

    /// Advances to `t` (never backwards) and applies `event`.
    pub fn exec(&mut self, t: u64, event: Event) {
        self.advance(t);
        let t = self.now_ms;
        match event {
            Event::Account { account } => {
                self.by_access_key
                    .insert(account.access_key_id.clone(), account.name.clone());
                self.by_account_id
                    .insert(account.account_id.clone(), account.name.clone());
                self.accounts.insert(account.name.clone(), account);
            }
            Event::Image { image } => {
                self.images.insert(image.id.clone(), image);
            }
            Event::Copy { mut image, token } => {
                image.status = Status::Waiting;
                if let Some(copy) = &mut image.copy {
                    copy.seq = self.next_seq;
                }
                self.next_seq += 1;
                if let Some((key, entry)) = token {
                    self.tokens.insert(key, entry);
                }
                let region = image.region.clone();
                let queue = self.queues.entry(region.clone()).or_default();
                queue.waiting.push_back(image.id.clone());
                let in_progress = queue.running.len() + queue.waiting.len();
                let peak = self.peak_in_progress.entry(region.clone()).or_default();
                *peak = (*peak).max(in_progress);
                *self
                    .copies_made
                    .entry(format!("{region}/{}", image.name))
                    .or_default() += 1;
                self.images.insert(image.id.clone(), image);
                self.fill(&region, t);
                self.advance_region(&region, t);
            }
            Event::Share {
                image_id,
                add,
                remove,
                public,
            } => {
                if let Some(img) = self.images.get_mut(&image_id) {
                    for a in &remove {
                        img.shared_with.remove(a);
                    }
                    img.shared_with.extend(add);
                    if let Some(p) = public {
                        img.public = p;
                    }
                }
            }
            Event::Delete { image_id } => {
                self.images.remove(&image_id);
            }
            Event::Cancel { image_id } => {
                if let Some(img) = self.images.remove(&image_id) {
                    if let Some(q) = self.queues.get_mut(&img.region) {
                        q.running.retain(|id| *id != image_id);
                        q.waiting.retain(|id| *id != image_id);
                    }
                    self.fill(&img.region, t);
                    self.advance_region(&img.region, t);
                }
            }
            Event::Faults { faults } => self.faults = faults,
        }
    }

    /// Moves every copy along to time `t`.
    pub fn advance(&mut self, t: u64) {
        let t = t.max(self.now_ms);
        self.now_ms = t;
        let busy: Vec<String> = self
            .queues
            .iter()
            .filter(|(_, q)| !q.running.is_empty() || !q.waiting.is_empty())
            .map(|(r, _)| r.clone())
            .collect();
        for region in busy {
            self.advance_region(&region, t);
        }
    }

    /// Starts waiting copies of `region` into free slots at time `at`.
    fn fill(&mut self, region: &str, at: u64) {
        let Some(q) = self.queues.get_mut(region) else {
            return;
        };
        while q.running.len() < MAX_RUNNING_PER_REGION {
            let Some(id) = q.waiting.pop_front() else {
                break;
            };
            if let Some(img) = self.images.get_mut(&id)
                && let Some(copy) = &mut img.copy
            {
                copy.started_ms = Some(at.max(copy.requested_ms));
                img.status = Status::Creating;
                q.running.push(id);
            }
        }
    }

    /// Finishes copies of `region` that are done by `t`, in finishing order, starting waiting
    /// copies in the slots they free at the moment they free them.
    fn advance_region(&mut self, region: &str, t: u64) {
        loop {
            let Some(q) = self.queues.get(region) else {
                return;
            };
            let next = q
                .running
                .iter()
                .filter_map(|id| {
                    let copy = self.images.get(id)?.copy.as_ref()?;
                    Some((copy.started_ms? + copy.duration_ms, id.clone()))
                })
                .min();
            let Some((finish, id)) = next else { return };
            if finish > t {
                return;
            }
            if let Some(img) = self.images.get_mut(&id)
                && let Some(copy) = &mut img.copy
            {
                copy.finished_ms = Some(finish);
                img.status = if copy.fails {
                    Status::CreateFailed
                } else {
                    Status::Available
                };
            }
            if let Some(q) = self.queues.get_mut(region) {
                q.running.retain(|r| *r != id);
            }
            self.fill(region, finish);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CopyInfo;

    fn copy(id: &str, region: &str, requested: u64, duration: u64) -> Event {
        Event::Copy {
            image: Image {
                id: id.into(),
                region: region.into(),
                owner: "1".into(),
                name: id.into(),
                description: String::new(),
                size_gib: 1,
                status: Status::Waiting,
                created_ms: requested,
                copy: Some(CopyInfo {
                    source_image_id: "m-src".into(),
                    source_region: region.into(),
                    seq: 0,
                    requested_ms: requested,
                    duration_ms: duration,
                    fails: false,
                    started_ms: None,
                    finished_ms: None,
                }),
                shared_with: Default::default(),
                public: false,
                product_code: None,
                version: None,
            },
            token: None,
        }
    }

    fn status(s: &State, id: &str) -> Status {
        s.images[id].status
    }

    #[test]
    fn five_run_the_rest_wait_and_start_when_slots_free() {
        let mut s = State::default();
        for i in 0..7 {
            s.exec(1000, copy(&format!("c{i}"), "r", 1000, 100 + i));
        }
        assert_eq!(s.queue_lengths("r"), (5, 2));
        assert_eq!(s.peak_in_progress["r"], 7);
        assert_eq!(status(&s, "c5"), Status::Waiting);
        // c0 finishes at 1100; c5 starts then and runs 105 ms; c1 frees at 1101, c6 starts.
        s.advance(1101);
        assert_eq!(status(&s, "c0"), Status::Available);
        assert_eq!(status(&s, "c1"), Status::Available);
        assert_eq!(
            s.images["c5"].copy.as_ref().and_then(|c| c.started_ms),
            Some(1100)
        );
        assert_eq!(
            s.images["c6"].copy.as_ref().and_then(|c| c.started_ms),
            Some(1101)
        );
        s.advance(1100 + 105);
        assert_eq!(status(&s, "c5"), Status::Available);
        s.advance(10_000);
        assert!(s.images.values().all(|i| i.status == Status::Available));
        assert_eq!(s.queue_lengths("r"), (0, 0));
    }

    #[test]
    fn replay_from_snapshot_matches_live_state() {
        let mut live = State::default();
        for i in 0..8 {
            live.exec(1000 + i, copy(&format!("c{i}"), "r", 1000 + i, 500));
        }
        let snap: State = serde_json::from_str(&serde_json::to_string(&live).unwrap()).unwrap();
        let mut restored = snap;
        restored.reindex();
        live.exec(
            1200,
            Event::Cancel {
                image_id: "c2".into(),
            },
        );
        restored.exec(
            1200,
            Event::Cancel {
                image_id: "c2".into(),
            },
        );
        live.advance(5000);
        restored.advance(5000);
        assert_eq!(live.images, restored.images);
        assert_eq!(
            live.images["c5"].copy.as_ref().and_then(|c| c.started_ms),
            Some(1200)
        );
    }

    #[test]
    fn instant_copies_finish_at_once() {
        let mut s = State::default();
        for i in 0..20 {
            s.exec(5, copy(&format!("c{i}"), "r", 5, 0));
        }
        assert!(s.images.values().all(|i| i.status == Status::Available));
    }
}
