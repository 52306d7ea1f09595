//! argon2id password hashing, off the async threads and bounded. Each check holds about 19 MiB
//! and a core for a moment; without a bound, a burst of anonymous sign-ins takes the server's
//! memory. So checks run on their own threads, one per core, a few more wait their turn
//! briefly, and the rest are told to come back (`AppError::Busy`). Their own threads, rather
//! than tokio's blocking pool, because the allocator keeps a thread's freed memory for that
//! thread: on a few long-lived threads the 19 MiB is reused, while spread over the blocking
//! pool's many threads every check grew the process for good.

use crate::error::AppError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// One hash at a time per core, each on a thread of `THREADS`.
static RUNNING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(checks_at_once()));
static THREADS: LazyLock<rayon::ThreadPool> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .num_threads(checks_at_once())
        .thread_name(|i| format!("password-{i}"))
        .build()
        .expect("the password threads start")
});
/// Checks waiting for a turn; beyond `MAX_WAITING` a check is refused at once.
static WAITING: AtomicUsize = AtomicUsize::new(0);
const MAX_WAITING: usize = 32;
/// How long a check may wait for its turn before it is refused.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// How many password checks may run at once: one per core.
pub fn checks_at_once() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work` on a password thread once a turn is free.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    if WAITING.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
        WAITING.fetch_sub(1, Ordering::SeqCst);
        return Err(AppError::Busy);
    }
    let permit = tokio::time::timeout(MAX_WAIT, RUNNING.acquire()).await;
    WAITING.fetch_sub(1, Ordering::SeqCst);
    let Ok(Ok(permit)) = permit else {
        return Err(AppError::Busy);
    };
    let (done, result) = tokio::sync::oneshot::channel();
    THREADS.spawn(move || {
        let _ = done.send(work());
    });
    let result = result.await;
    drop(permit);
    result.map_err(|_| {
        tracing::error!("a password check ended without an answer");
        AppError::Internal
    })
}

/// Verified against when the username is unknown, so that an unknown name costs the same time
/// as a wrong password and names cannot be probed.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_blocking("not a real password, only for timing").expect("hashing a constant cannot fail")
});

thread_local! {
    /// The argon2 working memory of this password thread, allocated once and reused, so the
    /// process holds one block of it per thread whatever the number of checks.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn with_memory<T>(params: &Params, work: impl FnOnce(&mut [Block]) -> T) -> T {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let needed = params.block_count();
        if memory.len() < needed {
            memory.resize(needed, Block::default());
        }
        work(&mut memory[..needed])
    })
}

/// A new argon2id hash of `password` in the PHC string format, with a random salt.
fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes)?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    with_memory(&params, |blocks| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt_raw, &mut output, blocks)
    })?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches a PHC-format argon2 hash (compared in constant time).
fn verify_blocking(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut output = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = with_memory(&params, |blocks| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut output, blocks)
    });
    computed.is_ok() && Output::new(&output).is_ok_and(|output| output == expected)
}

#[tracing::instrument(skip_all)]
pub async fn hash(password: String) -> Result<String, AppError> {
    bounded(move || hash_blocking(&password))
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::Internal
        })
}

/// Checks a password against a stored hash, or against a dummy hash when there is none.
#[tracing::instrument(skip_all)]
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    bounded(move || match stored {
        Some(hash) => verify_blocking(&password, &hash),
        None => {
            verify_blocking(&password, &DUMMY_HASH);
            false
        }
    })
    .await
}

/// Computes the dummy hash at start-up so that the first unknown-user login is not slower.
#[tracing::instrument(skip_all)]
pub async fn warm_up() {
    let _ = bounded(|| {
        LazyLock::force(&DUMMY_HASH);
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_and_verifies_only_its_password() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse battery".into(), Some(hash))
            .await
            .unwrap());
    }

    #[test]
    fn hashes_are_the_standard_phc_strings_either_way() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_blocking("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify_blocking("correct horse battery", &theirs));
        assert!(!verify_blocking("wrong horse battery", &theirs));
        assert!(!verify_blocking("anything", "not a hash"));
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify("anything".into(), None).await.unwrap());
    }
}
