//! Two step traces compared instruction by instruction: aligned by execution (`align`), each
//! pair of steps compared component by component under the tolerances (`compare`), with what the
//! comparison learns along the way: which values come from page numbers (`taint`) and each
//! engine's pages (`pages`).

mod align;
mod compare;
mod pages;
mod taint;

pub(crate) use self::align::localize;
