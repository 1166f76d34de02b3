//! Reports: a run's divergence report for terminals and tools (`run`), and what the HTML
//! reports share (`html`).

pub mod html;
pub mod run;
