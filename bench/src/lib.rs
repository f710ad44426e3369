//! National-scale techex data sets for the benchmark suite (`bench/run`): a reproducible
//! generator of realistic records and a loader that writes them as the API would.

pub mod generate;
pub mod load;
