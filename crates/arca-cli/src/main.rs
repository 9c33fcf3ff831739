//! The `arca` binary: server, client and admin tool. Thin by design: it parses arguments and the environment,
//! then calls into the crates. Only this crate reads the environment and the command line.
#![forbid(unsafe_code)]

mod access_key;
mod audit;
mod backup;
mod backup_file;
mod cli;
mod config;
mod db_copy;
mod duration;
mod init;
mod key_client;
mod open;
mod progress;
mod report;
mod root;
mod root_export;
mod rotate;
mod secret_client;
mod secret_store_admin;
mod secret_stores;
mod secure_file;
mod serve;
mod token;
mod unseal;

use clap::Parser;

/// mimalloc instead of glibc malloc: fewer cycles and no arena lock contention on the request paths.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crate::cli::{
    AccessKeyCommand, AuditCommand, Cli, Command, DbCommand, KeyCommand, ProjectCommand,
    ReportCommand, RootCommand, SecretCommand, SecretStoreCommand, TokenCommand,
};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("arca: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Init(args) => init::run(args).await,
            Command::Server(args) => serve::run(args).await,
            Command::Token {
                command: TokenCommand::Create(args),
            } => token::create(args).await,
            Command::Token {
                command: TokenCommand::Revoke(args),
            } => token::revoke(args).await,
            Command::Audit {
                command: AuditCommand::Verify(args),
            } => audit::verify(args).await,
            Command::Report { command } => match command {
                ReportCommand::Expiring(args) => report::expiring(args).await,
                ReportCommand::Orphans(args) => report::orphans(args).await,
            },
            Command::Secret { command } => match command {
                SecretCommand::Store(args) => secret_client::store(args).await,
                SecretCommand::Get(args) => secret_client::get(args).await,
                SecretCommand::List(args) => secret_client::list(args).await,
                SecretCommand::Delete(args) => secret_client::delete(args).await,
            },
            Command::AccessKey { command } => match command {
                AccessKeyCommand::Create(args) => access_key::create(args).await,
                AccessKeyCommand::Revoke(args) => access_key::revoke(args).await,
            },
            Command::Unseal(args) => unseal::unseal(args).await,
            Command::Seal => unseal::seal().await,
            Command::Key { command } => match command {
                KeyCommand::Create(args) => key_client::create(args).await,
                KeyCommand::List => key_client::list().await,
                KeyCommand::Describe(args) => key_client::describe(args).await,
                KeyCommand::Encrypt(args) => key_client::encrypt(args).await,
                KeyCommand::Decrypt(args) => key_client::decrypt(args).await,
                KeyCommand::Sign(args) => key_client::sign_message(args).await,
                KeyCommand::Verify(args) => key_client::verify(args).await,
                KeyCommand::Rotate(args) => key_client::rotate(args).await,
            },
            Command::Backup(args) => backup::backup(args).await,
            Command::Restore(args) => backup::restore(args).await,
            Command::Root { command } => match command {
                RootCommand::Export(args) => root_export::export(args).await,
                RootCommand::Import(args) => root_export::import(args).await,
                RootCommand::Rotate(args) => rotate::root(args).await,
            },
            Command::Project { command } => match command {
                ProjectCommand::RotateKek(args) => rotate::project_kek(args).await,
            },
            Command::Db {
                command: DbCommand::Copy(args),
            } => db_copy::copy(args).await,
            Command::SecretStore { command } => match command {
                SecretStoreCommand::List(args) => secret_store_admin::list(args).await,
                SecretStoreCommand::Migrate(args) => secret_store_admin::migrate(args).await,
            },
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arca: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
