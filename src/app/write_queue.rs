//! Writes waiting to be committed, in arrival order: the next writer to hold the write lock
//! commits all of them as one group (`App::write`).

use tokio::sync::oneshot;

use crate::storage::{GroupedOutcome, GroupedWork, StorageError};

/// Where a queued write's answer goes: its outcome and the version it committed as, or its error.
pub(super) type Answer = oneshot::Sender<Result<(GroupedOutcome, i64), StorageError>>;

/// A write waiting, with its number, its work and where its answer goes.
type Waiting = (u64, GroupedWork, Answer);

#[derive(Default)]
pub(super) struct WriteQueue {
    /// The next write's number, and the writes waiting.
    waiting: std::sync::Mutex<(u64, Vec<Waiting>)>,
}

impl WriteQueue {
    /// Queues a write; while the returned guard is armed, dropping it takes the write back out
    /// (its caller went away before any group took it).
    pub(super) fn push(&self, work: GroupedWork, answer: Answer) -> Queued<'_> {
        let mut waiting = self.waiting.lock().expect("the write queue lock is never poisoned");
        let write_idx = waiting.0;
        waiting.0 += 1;
        waiting.1.push((write_idx, work, answer));
        Queued { queue: self, write_idx, armed: true }
    }

    /// Every write waiting, in arrival order; the queue is left empty.
    pub(super) fn take_all(&self) -> Vec<(GroupedWork, Answer)> {
        let mut waiting = self.waiting.lock().expect("the write queue lock is never poisoned");
        std::mem::take(&mut waiting.1).into_iter().map(|(_, work, answer)| (work, answer)).collect()
    }

    fn remove(&self, write_idx: u64) -> bool {
        let mut waiting = self.waiting.lock().expect("the write queue lock is never poisoned");
        let before = waiting.1.len();
        waiting.1.retain(|(queued_idx, _, _)| *queued_idx != write_idx);
        waiting.1.len() < before
    }
}

/// One queued write, as its caller holds it.
pub(super) struct Queued<'a> {
    queue: &'a WriteQueue,
    write_idx: u64,
    armed: bool,
}

impl Queued<'_> {
    /// Takes the write back out of the queue; whether it was still there (no group took it).
    pub(super) fn withdraw(&self) -> bool {
        self.queue.remove(self.write_idx)
    }

    /// The write is in a group, or has been: nothing to take back if its caller goes now.
    pub(super) fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.withdraw();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(value: u32) -> GroupedWork {
        Box::new(move |_| Ok(Box::new(value) as GroupedOutcome))
    }

    #[test]
    fn a_write_whose_caller_goes_before_a_group_takes_it_is_never_committed() {
        let queue = WriteQueue::default();
        let (first_answer, _first) = oneshot::channel();
        let (second_answer, _second) = oneshot::channel();
        let first = queue.push(work(1), first_answer);
        let second = queue.push(work(2), second_answer);
        drop(first);
        second.keep();
        let taken = queue.take_all();
        assert_eq!(taken.len(), 1, "only the write whose caller stayed is taken");
        assert!(queue.take_all().is_empty(), "taking empties the queue");
    }

    #[test]
    fn a_write_already_taken_into_a_group_cannot_be_withdrawn() {
        let queue = WriteQueue::default();
        let (answer, _answered) = oneshot::channel();
        let queued = queue.push(work(1), answer);
        assert_eq!(queue.take_all().len(), 1);
        assert!(!queued.withdraw(), "a group holds it: its answer will come");
        let (answer, _answered) = oneshot::channel();
        let queued = queue.push(work(2), answer);
        assert!(queued.withdraw(), "still queued: taken back");
        assert!(queue.take_all().is_empty());
    }
}
