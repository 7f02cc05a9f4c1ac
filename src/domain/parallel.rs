//! Work split across threads: the domain's computations over many independent agents.

/// Runs `work` over `items` split across the machine's cores, keeping the order.
pub(crate) fn on_all_cores<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let n_threads = std::thread::available_parallelism().map_or(1, |cores| cores.get()).clamp(1, 8);
    let chunk_size = items.len().div_ceil(n_threads).max(1);
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items
            .chunks(chunk_size)
            .map(|chunk| scope.spawn(move || chunk.iter().map(work).collect::<Vec<R>>()))
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().expect("report work does not panic")).collect()
    })
}
