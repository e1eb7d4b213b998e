//! Headless's standard output on a thread of its own. The stream never waits for whoever reads
//! the lines: a slow reader cannot stop the pings, the dead-connection timer or the socket reads.
//! A reader that stops reading for too long ends the run with a clear error; no line is dropped.

use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// How much an unread output may hold back before the run gives up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputLimits {
    /// Lines written but not yet taken by the reader.
    pub queued_lines: usize,
    /// How long one write may stay blocked.
    pub stalled_for: Duration,
}

impl Default for OutputLimits {
    fn default() -> Self {
        Self {
            queued_lines: 65_536,
            stalled_for: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The reader went away (a closed pipe): the run ends quietly.
    #[error("standard output was closed")]
    Closed,
    #[error("cannot write output: {0}")]
    Failed(std::io::Error),
    #[error("standard output is not being read: {waiting} lines waiting, none taken for {secs} s")]
    Blocked { waiting: u64, secs: u64 },
}

/// What the writing thread tells the stream.
#[derive(Default)]
struct Progress {
    written: u64,
    /// Since when the current write has been waiting for the reader (`None`: not writing).
    writing_since: Option<Instant>,
    error: Option<std::io::Error>,
}

pub struct Output {
    lines: Option<SyncSender<String>>,
    progress: Arc<Mutex<Progress>>,
    queued: u64,
    limits: OutputLimits,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Output {
    pub fn start(out: Box<dyn Write + Send>, limits: OutputLimits) -> Result<Self, OutputError> {
        let (lines, queue) = sync_channel(limits.queued_lines.max(1));
        let progress = Arc::new(Mutex::new(Progress::default()));
        let writing = progress.clone();
        let thread = std::thread::Builder::new()
            .name("orderwatch-stdout".to_owned())
            .spawn(move || write_all(out, queue, &writing))
            .map_err(OutputError::Failed)?;
        Ok(Self {
            lines: Some(lines),
            progress,
            queued: 0,
            limits,
            thread: Some(thread),
        })
    }

    /// Queues one line (without its newline). A full queue (a burst, or a slow reader) waits
    /// for room for as long as the reader keeps taking lines; one that stopped ends it.
    pub async fn line(&mut self, mut line: String) -> Result<(), OutputError> {
        loop {
            self.check(Instant::now())?;
            let Some(lines) = &self.lines else {
                return Err(OutputError::Closed);
            };
            match lines.try_send(line) {
                Ok(()) => {
                    self.queued += 1;
                    return Ok(());
                }
                Err(TrySendError::Full(back)) => {
                    line = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(TrySendError::Disconnected(_)) => {
                    return Err(self.failure().unwrap_or(OutputError::Closed));
                }
            }
        }
    }

    /// Whether the output still works: not failed, and no write blocked past the limit.
    pub fn check(&self, now: Instant) -> Result<(), OutputError> {
        if let Some(failure) = self.failure() {
            return Err(failure);
        }
        let since = self.progress.lock().writing_since;
        match since {
            Some(since) if now.saturating_duration_since(since) >= self.limits.stalled_for => {
                Err(self.blocked(now))
            }
            _ => Ok(()),
        }
    }

    /// Writes out everything queued, for as long as the reader keeps taking it.
    pub async fn finish(mut self) -> Result<(), OutputError> {
        self.lines = None;
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        // Polled, not joined on a blocking task: a thread stuck on a reader that stopped for good
        // is left behind (the process ends without it), and nothing waits for it.
        while !thread.is_finished() {
            self.check(Instant::now())?;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = thread.join();
        self.failure().map_or(Ok(()), Err)
    }

    fn failure(&self) -> Option<OutputError> {
        let progress = self.progress.lock();
        progress.error.as_ref().map(|err| match err.kind() {
            std::io::ErrorKind::BrokenPipe => OutputError::Closed,
            kind => OutputError::Failed(std::io::Error::new(kind, err.to_string())),
        })
    }

    fn blocked(&self, now: Instant) -> OutputError {
        let progress = self.progress.lock();
        let secs = progress
            .writing_since
            .map_or(0, |since| now.saturating_duration_since(since).as_secs());
        OutputError::Blocked {
            waiting: self.queued.saturating_sub(progress.written),
            secs,
        }
    }
}

/// The writing thread: each line as it comes, flushed whenever none is waiting.
fn write_all(mut out: Box<dyn Write + Send>, queue: Receiver<String>, progress: &Mutex<Progress>) {
    let mut next = queue.recv().ok();
    while let Some(mut line) = next.take() {
        line.push('\n');
        progress.lock().writing_since = Some(Instant::now());
        let mut written = out.write_all(line.as_bytes());
        next = match queue.try_recv() {
            Ok(line) => Some(line),
            Err(TryRecvError::Empty) => {
                written = written.and_then(|()| out.flush());
                None
            }
            Err(TryRecvError::Disconnected) => None,
        };
        let mut state = progress.lock();
        state.writing_since = None;
        if let Err(err) = written {
            state.error = Some(err);
            return;
        }
        state.written += 1;
        drop(state);
        if next.is_none() {
            next = queue.recv().ok();
        }
    }
    if let Err(err) = out.flush() {
        progress.lock().error = Some(err);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that takes nothing until it is let go.
    struct Stuck(Arc<Mutex<bool>>, Arc<Mutex<Vec<u8>>>);

    impl Write for Stuck {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            while !*self.0.lock() {
                std::thread::sleep(Duration::from_millis(5));
            }
            self.1.lock().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_stuck_reader_is_reported_and_nothing_is_dropped_meanwhile() {
        let (free, seen) = (Arc::new(Mutex::new(false)), Arc::new(Mutex::new(Vec::new())));
        let limits = OutputLimits {
            queued_lines: 4,
            stalled_for: Duration::from_millis(200),
        };
        let mut output = Output::start(Box::new(Stuck(free.clone(), seen.clone())), limits).unwrap();
        // The thread takes the first line and waits on the reader; four more fill the queue.
        output.line("line 0".to_owned()).await.unwrap();
        while output.progress.lock().writing_since.is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        for n in 1..5 {
            output.line(format!("line {n}")).await.unwrap();
        }
        std::thread::sleep(Duration::from_millis(250));
        let err = output.line("one too many".to_owned()).await.unwrap_err();
        assert!(matches!(err, OutputError::Blocked { .. }), "{err}");
        assert!(err.to_string().contains("not being read"), "{err}");
        // Let go: what was queued comes out, in order, and then the output is fine again.
        *free.lock() = true;
        let all = "line 0\nline 1\nline 2\nline 3\nline 4\n";
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.lock().len() < all.len() {
            assert!(Instant::now() < deadline, "the queued lines did not come out");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(String::from_utf8(seen.lock().clone()).unwrap(), all);
        output.finish().await.unwrap();
    }

    #[tokio::test]
    async fn a_closed_pipe_ends_quietly() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut output = Output::start(Box::new(Closed), OutputLimits::default()).unwrap();
        output.line("x".to_owned()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while output.check(Instant::now()).is_ok() {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(matches!(
            output.line("y".to_owned()).await,
            Err(OutputError::Closed)
        ));
    }
}
