//! Process hygiene of `arca server`: it refuses a data directory that group or others can reach, runs with
//! umask 077 and with core dumps off (RLIMIT_CORE 0), as /proc shows for the running process.

mod common;
use common::*;

#[test]
fn refuses_a_data_directory_others_can_reach() {
    let d = init();
    for mode in [0o755, 0o750, 0o701] {
        set_mode(&d.dir, mode);
        let failure = match Server::start_with(ServerOpts::new(&d.dir)) {
            Ok(_) => panic!("arca server started on a data directory with mode {mode:04o}"),
            Err(f) => f,
        };
        assert!(
            failure.status.is_some_and(|s| !s.success()),
            "expected a failed exit\n{}",
            failure.describe()
        );
        let dir = d.dir.display().to_string();
        for needle in [dir.as_str(), &format!("{mode:04o}"), "chmod 0700"] {
            assert!(
                failure.stderr.contains(needle),
                "the refusal should mention {needle:?}\n{}",
                failure.describe()
            );
        }
    }
    set_mode(&d.dir, 0o700);
    let _server = Server::start(&d.dir);
}

#[test]
fn running_server_has_no_core_dumps_and_umask_077() {
    let d = init();
    let server = Server::start(&d.dir);
    let pid = server.pid();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("read limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_else(|| panic!("no core file size in /proc/{pid}/limits:\n{limits}"));
    let fields: Vec<&str> = core["Max core file size".len()..]
        .split_whitespace()
        .collect();
    assert_eq!(
        &fields[..2],
        &["0", "0"],
        "soft and hard core file size limits should be 0: {core}"
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let umask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .unwrap_or_else(|| panic!("no Umask in /proc/{pid}/status"));
    assert_eq!(umask.trim(), "0077", "umask of the server");
}
