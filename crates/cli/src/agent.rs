//! `mw agent`: turns the command line into the sidecar's [`Config`] and runs it
//! ([`memwatchdog_agent`]).

use std::process::ExitCode;

use anyhow::Context;
use memwatchdog_agent::Config;
use memwatchdog_offload::StoreConfig;

use crate::cli::AgentArgs;

/// Runs the agent until SIGTERM.
pub fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let mw = std::env::current_exe().context("cannot find the mw binary to run analyses with")?;
    let store = args.store.map(|url| {
        let mut store = StoreConfig::new(url);
        store.endpoint = args.endpoint;
        store.region = args.region;
        store.part_size = usize::try_from(args.part_size).unwrap_or(usize::MAX);
        store.request_retries = args.request_retries;
        store
    });
    let pod = args
        .pod
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .context(
            "no pod name: give --pod (MW_AGENT_POD), e.g. from the downward API's metadata.name",
        )?;
    let work_dir = args.work_dir.unwrap_or_else(|| args.dir.join(".mw-agent"));
    memwatchdog_agent::run(Config {
        dir: args.dir,
        store,
        namespace: args.namespace,
        pod,
        delete_after_upload: args.delete_after_upload,
        scrub: args.scrub,
        analyze: !args.no_analyze,
        analyze_max_bytes: args.analyze_max_bytes,
        mw,
        listen: args.listen,
        notify_url: args.notify_url,
        notify_wait: args.notify_wait,
        settle: args.settle,
        poll: args.poll,
        work_dir,
        max_backoff: args.max_backoff,
    })?;
    Ok(ExitCode::SUCCESS)
}
