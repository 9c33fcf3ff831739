//! The baseline: a bare axum "hello" handler on the same machine, served by this binary's `baseline`
//! subcommand in its own process, so every ratio is to the HTTP ceiling measured in the same run.

use std::io::Write;

/// Serves `GET /` → `hello` on 127.0.0.1:0 and prints `listening on http://ADDR`.
pub async fn serve() -> anyhow::Result<()> {
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
