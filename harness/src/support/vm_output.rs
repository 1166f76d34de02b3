//! What the VMs print while they run. zksync_vm2 writes `Unimplemented instruction: …` to stderr
//! for every static-memory instruction it meets, dozens of lines a second in a fuzzing run.
//! [`StderrCapture`] redirects the process's stderr into a pipe and counts the lines by text, to
//! be summarized in the report; the harness's own messages go to the terminal through
//! [`console!`](crate::console), which writes to the real stderr while a capture is running.

use std::{
    collections::BTreeMap,
    fmt,
    fs::File,
    io::{self, BufRead, BufReader, Write},
    mem::ManuallyDrop,
    os::fd::{FromRawFd, RawFd},
    sync::{
        atomic::{AtomicI32, Ordering},
        Arc, Mutex,
    },
    thread::JoinHandle,
};

use serde::{Deserialize, Serialize};

/// The real stderr while a capture runs (`-1` otherwise).
static REAL_STDERR: AtomicI32 = AtomicI32::new(-1);

/// Distinct texts kept; lines beyond them are counted under [`OTHER_LINES`].
const MAX_TEXTS: usize = 64;
/// The key that counts lines whose text is not kept.
pub const OTHER_LINES: &str = "(other lines)";

/// Lines printed to stderr, by text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputSummary {
    pub lines: BTreeMap<String, u64>,
}

impl OutputSummary {
    pub fn total(&self) -> u64 {
        self.lines.values().sum()
    }

    /// Counts one line, under its text while fewer than [`MAX_TEXTS`] texts are kept.
    fn add(&mut self, text: String) {
        let key = if self.lines.len() < MAX_TEXTS || self.lines.contains_key(&text) {
            text
        } else {
            OTHER_LINES.to_owned()
        };
        *self.lines.entry(key).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Self) {
        for (text, count) in &other.lines {
            *self.lines.entry(text.clone()).or_default() += count;
        }
    }
}

impl fmt::Display for OutputSummary {
    /// `N lines (K distinct)`, then each text with its count, most frequent first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} lines ({} distinct)", self.total(), self.lines.len())?;
        let mut texts: Vec<_> = self.lines.iter().collect();
        texts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (text, count) in texts {
            write!(f, "\n  {count:>8} × {text}")?;
        }
        Ok(())
    }
}

/// Stderr redirected into a pipe until [`StderrCapture::finish`].
pub struct StderrCapture {
    real: RawFd,
    counted: Arc<Mutex<OutputSummary>>,
    reader: JoinHandle<()>,
}

impl StderrCapture {
    /// Starts capturing everything written to stderr (fd 2) by any thread.
    pub fn start() -> io::Result<Self> {
        io::stderr().flush()?;
        let mut pipe = [0; 2];
        // SAFETY: plain descriptor calls; every returned descriptor is checked.
        let real = unsafe {
            if libc::pipe(pipe.as_mut_ptr()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let real = libc::dup(2);
            if real < 0 || libc::dup2(pipe[1], 2) < 0 {
                let err = io::Error::last_os_error();
                libc::close(pipe[0]);
                libc::close(pipe[1]);
                return Err(err);
            }
            libc::close(pipe[1]);
            real
        };
        REAL_STDERR.store(real, Ordering::SeqCst);
        // SAFETY: the read end is ours alone from here on.
        let read_end = unsafe { File::from_raw_fd(pipe[0]) };
        let counted = Arc::new(Mutex::new(OutputSummary::default()));
        let reader = {
            let counted = Arc::clone(&counted);
            std::thread::spawn(move || count_lines(BufReader::new(read_end), &counted))
        };
        Ok(Self {
            real,
            counted,
            reader,
        })
    }

    /// What was printed since the capture started or the last `take`.
    pub fn take(&self) -> OutputSummary {
        std::mem::take(&mut *self.counted.lock().unwrap())
    }

    /// Restores stderr and returns what was printed meanwhile.
    pub fn finish(self) -> OutputSummary {
        let _ = io::stderr().flush();
        restore_stderr();
        // SAFETY: `real` was duplicated by `start` and is closed once, here.
        unsafe { libc::close(self.real) };
        // The pipe's only write end was fd 2, now replaced: the reader sees the end of input.
        let _ = self.reader.join();
        std::mem::take(&mut *self.counted.lock().unwrap())
    }
}

/// Counts `input`'s lines into `counted` until the end of input.
fn count_lines(input: impl BufRead, counted: &Mutex<OutputSummary>) {
    for line in input.split(b'\n') {
        let Ok(line) = line else { break };
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        counted.lock().unwrap().add(text);
    }
}

/// Puts the real stderr back (for a harness crash during a capture, so its message is seen).
pub fn restore_stderr() {
    let real = REAL_STDERR.swap(-1, Ordering::SeqCst);
    if real >= 0 {
        // SAFETY: `real` is a descriptor `StderrCapture::start` duplicated and still holds.
        unsafe { libc::dup2(real, 2) };
    }
}

/// The terminal's stderr: the real one during a capture, fd 2 otherwise.
fn console_fd() -> RawFd {
    match REAL_STDERR.load(Ordering::SeqCst) {
        real if real >= 0 => real,
        _ => 2,
    }
}

fn console_write(text: fmt::Arguments<'_>) {
    let _ = io::stderr().flush();
    // SAFETY: borrowed for this write only; `ManuallyDrop` keeps it from being closed.
    let mut file = ManuallyDrop::new(unsafe { File::from_raw_fd(console_fd()) });
    let _ = file.write_fmt(text);
}

/// Writes one line to the terminal's stderr, past any capture.
pub fn console_line(line: fmt::Arguments<'_>) {
    console_write(format_args!("{line}\n"));
}

/// Replaces the terminal's status line with `line` (empty clears it).
pub fn console_status(line: &str) {
    console_write(format_args!("\r\x1b[2K{line}"));
}

/// Whether the terminal's stderr is a terminal.
pub fn console_is_terminal() -> bool {
    // SAFETY: `isatty` only inspects the descriptor.
    unsafe { libc::isatty(console_fd()) == 1 }
}

/// `eprintln!` for the harness's own messages: to the terminal even while stderr is captured.
#[macro_export]
macro_rules! console {
    ($($arg:tt)*) => {
        $crate::support::vm_output::console_line(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_by_text_up_to_a_limit() {
        let mut text = String::from("a\nb\na\n");
        for index in 0..MAX_TEXTS + 5 {
            text.push_str(&format!("line {index}\n"));
        }
        let counted = Mutex::new(OutputSummary::default());
        count_lines(text.as_bytes(), &counted);
        let summary = counted.into_inner().unwrap();
        assert_eq!(summary.lines["a"], 2);
        assert_eq!(summary.lines[OTHER_LINES], 7);
        assert_eq!(summary.total(), 3 + MAX_TEXTS as u64 + 5);
        assert!(summary
            .to_string()
            .starts_with(&format!("{} lines", summary.total())));
    }
}
