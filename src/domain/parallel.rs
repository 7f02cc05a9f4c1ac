//! How many threads the domain's computations over many independent agents may use. The caller
//! decides: the domain never asks the machine how many cores it has.

use std::num::NonZeroUsize;

/// Fewer items than this are not worth a thread of their own.
const MIN_ITEMS_PER_THREAD: usize = 16;

/// A number of threads, at least one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parallelism(NonZeroUsize);

impl Parallelism {
    /// Everything on the calling thread.
    pub const SEQUENTIAL: Parallelism = Parallelism(NonZeroUsize::MIN);

    pub const fn new(n_threads: NonZeroUsize) -> Parallelism {
        Parallelism(n_threads)
    }

    pub fn n_threads(self) -> usize {
        self.0.get()
    }

    /// Runs `work` over `items` in up to `n_threads` chunks at once, keeping the order; a few
    /// items (a write's changed agents) run on the calling thread, where starting a thread
    /// would cost more than the work.
    pub(crate) fn map_in_order<T: Sync, R: Send>(self, items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
        let chunk_size = items.len().div_ceil(self.n_threads()).max(MIN_ITEMS_PER_THREAD);
        if self == Parallelism::SEQUENTIAL || items.len() <= chunk_size {
            return items.iter().map(work).collect();
        }
        std::thread::scope(|scope| {
            let work = &work;
            let handles: Vec<_> = items
                .chunks(chunk_size)
                .map(|chunk| scope.spawn(move || chunk.iter().map(work).collect::<Vec<R>>()))
                .collect();
            handles.into_iter().flat_map(|handle| handle.join().expect("domain work does not panic")).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(n_threads: usize, n_items: usize) {
        let items: Vec<usize> = (0..n_items).collect();
        let parallelism = Parallelism::new(NonZeroUsize::new(n_threads).unwrap());
        let squares = parallelism.map_in_order(&items, |item| item * item);
        assert_eq!(squares, items.iter().map(|item| item * item).collect::<Vec<_>>(), "{n_threads} threads");
    }

    #[test]
    fn results_keep_the_order_of_the_items_on_any_number_of_threads() {
        for (n_threads, n_items) in
            [(1, 0), (1, 5), (2, 0), (2, 1), (2, 7), (3, 10), (8, 3), (16, 1000), (2, 33), (3, 50)]
        {
            check(n_threads, n_items);
        }
    }
}
