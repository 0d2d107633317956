//! CPU time and memory of listing tags through the client:
//! `cargo bench --bench list_tags_resources` lists 1,000, 10,000 and 100,000 tags.
//!
//! The scripted test server runs in a child process (this binary, re-executed), so
//! the CPU time (`getrusage`, user + system, all threads) and the peak RSS are the
//! client's alone. A counting global allocator gives the heap peak during a listing and
//! the heap still held by its result, to show memory proportional to the tag count.
//! Without `--bench` (as under `cargo test --all-targets`) it lists 1,000 tags once
//! and checks the result.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use testkit::ucloud_server::{Server, generated_tags, tag_page};
use uhub::{ImageRef, ListTagsRequest, TagListing};

/// Set in the child: serve this many generated tags; `ImageName` picks how many.
const SERVE_ENV: &str = "TAGWATCH_BENCH_SERVE_TAGS";

struct CountingAllocator;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; only counters
// are updated around it.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// User plus system CPU time of this process so far.
fn cpu_time() -> Duration {
    let usage = rusage();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// A `/proc/self/status` memory figure in KiB (Linux): `VmHWM` is the peak resident
/// set size, `VmRSS` the current one. (`getrusage`'s `ru_maxrss` is not used: Linux
/// keeps it across `execve`, so it would report the launching `cargo`.)
fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn rusage() -> libc::rusage {
    // SAFETY: getrusage only writes the struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    }
}

/// The child: serves the newest-first tags `count-1 .. 0` of an image named `<count>`
/// until stdin closes.
fn serve(max: u64) {
    let tags = generated_tags(max);
    let server = Server::start(move |request| {
        let count: usize = request.param("ImageName").unwrap().parse().unwrap();
        tag_page(&tags[tags.len() - count..], request, 1_000)
    });
    println!("{}", server.url);
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// The server child process; killed when dropped.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn spawn(max: u64) -> ServerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(SERVE_ENV, max.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server process");
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        ServerProcess {
            child,
            url: url.trim().to_string(),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Sample {
    cpu: Duration,
    wall: Duration,
    peak_heap: usize,
    retained_heap: usize,
    requests: u32,
}

fn measure(list: impl FnOnce() -> TagListing, expected: u64) -> Sample {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let (cpu, wall) = (cpu_time(), Instant::now());
    let listing = list();
    let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
    let sample = Sample {
        cpu,
        wall,
        peak_heap: PEAK.load(Ordering::Relaxed).saturating_sub(base),
        retained_heap: CURRENT.load(Ordering::Relaxed).saturating_sub(base),
        requests: listing.requests,
    };
    assert_eq!(listing.tags.len() as u64, expected);
    assert_eq!(listing.total_count, expected);
    drop(listing);
    sample
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    if let Ok(max) = std::env::var(SERVE_ENV) {
        serve(max.parse().unwrap());
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    let (sizes, runs): (&[u64], usize) = if full {
        (&[1_000, 10_000, 100_000], 5)
    } else {
        (&[1_000], 1)
    };
    let server = ServerProcess::spawn(*sizes.last().unwrap());
    let (client, credentials, runtime) = testkit::uhub_client::blocking_client(&server.url);
    let rss_before = proc_status_kib("VmRSS:");
    println!(
        "| tags | requests | CPU time (median of {runs}) | wall time | heap peak | heap held by result | per tag |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for &size in sizes {
        let mut request = ListTagsRequest::new(ImageRef::new("bench", size.to_string()));
        request.max_pages = 100_000.try_into().unwrap();
        let list = || {
            runtime
                .block_on(client.list_tags(&credentials, &request))
                .unwrap()
        };
        measure(list, size); // warm-up: connection, buffers
        let samples: Vec<Sample> = (0..runs).map(|_| measure(list, size)).collect();
        let peak = samples.iter().map(|s| s.peak_heap).max().unwrap();
        let held = samples.iter().map(|s| s.retained_heap).max().unwrap();
        println!(
            "| {size} | {} | {:.1} ms | {:.1} ms | {:.2} MiB | {:.2} MiB | {} B |",
            samples[0].requests,
            median(samples.iter().map(|s| s.cpu).collect()).as_secs_f64() * 1e3,
            median(samples.iter().map(|s| s.wall).collect()).as_secs_f64() * 1e3,
            mib(peak),
            mib(held),
            held / size as usize,
        );
    }
    println!(
        "\nclient process RSS: {:.1} MiB before the first listing, {:.1} MiB peak (VmHWM)",
        rss_before as f64 / 1024.0,
        proc_status_kib("VmHWM:") as f64 / 1024.0
    );
    drop(server);
}
