//! Reports: a run's divergence report for terminals and tools (`run`, and `frame` for frame-level
//! runs), and what the HTML reports share (`html`).

pub mod frame;
pub mod html;
pub mod run;
