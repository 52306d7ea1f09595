//! Integration tests over real HTTP. Every test runs twice, on a fresh SQLite file and on a
//! fresh PostgreSQL database (`SLUICE_TEST_POSTGRES_URL`, default the local test server).

mod harness;

mod accounts;
mod api_tokens;
mod audit;
mod console_registry;
mod devices;
mod edge_input;
mod health;
mod live_security;
mod message_order;
mod outage;
mod permissions;
mod release_amqp;
mod release_messages;
mod release_pages;
mod release_stream;
mod replicas;
mod roles;
mod rollout_messages;
mod rollouts;
mod security;
mod serve_process;
mod shutdown;
mod sign_in_limits;

/// Declares `sqlite::name` and `postgres::name` for each `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Backend::Postgres).await
                }
            )*
        }
    };
}
