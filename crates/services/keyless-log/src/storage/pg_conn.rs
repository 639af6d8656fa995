//! The PostgreSQL driver's connection plumbing: a client whose connection
//! runs on its own thread, blocking calls on it, and error mapping. Shared
//! by the driver ([`super::postgres`]) and its two indexes
//! ([`super::pg_index`], [`super::pg_search`]), which the driver opens, so
//! they live apart from it.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use tokio_postgres::{Client, NoTls};

use crate::error::StorageError;

pub(super) fn db(op: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StorageError {
    move |e| StorageError::Database {
        op,
        source: Box::new(e),
    }
}

/// Wake a parked thread.
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Run a client future to completion on this thread. The connection is
/// polled by its own runtime thread, so client futures only wait on
/// channels; this works inside or outside a tokio runtime.
pub(super) fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Connect, driving the connection on a dedicated thread with its own
/// small runtime, so that blocking callers work inside or outside tokio.
pub(super) fn spawn_client(config: &tokio_postgres::Config) -> Result<Client, StorageError> {
    let config = config.clone();
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("keyless-log-postgres".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(StorageError::Database {
                        op: "start the connection runtime",
                        source: Box::new(e),
                    }));
                    return;
                }
            };
            rt.block_on(async move {
                match config.connect(NoTls).await {
                    Ok((client, connection)) => {
                        let _ = tx.send(Ok(client));
                        // Runs until the client is dropped or the connection fails.
                        if let Err(e) = connection.await {
                            tracing::error!(error = %e, "PostgreSQL connection failed");
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(db("connect")(e)));
                    }
                }
            });
        })
        .map_err(|e| StorageError::Database {
            op: "start the connection thread",
            source: Box::new(e),
        })?;
    rx.recv().map_err(|e| StorageError::Database {
        op: "connect",
        source: Box::new(e),
    })?
}

/// A connection with its prepared statements, opened from a config.
pub(super) trait Dialed: Sized {
    fn open(config: &tokio_postgres::Config) -> Result<Self, StorageError>;
    fn client(&self) -> &Client;
}

/// A [`Dialed`] connection that is opened again when it has dropped (the
/// database restarted, or failed over to a standby that a multi-host
/// connection string finds). Callers share it without a lock: each call
/// takes the current connection; the first to find it closed reopens it.
pub(super) struct Redial<T> {
    config: tokio_postgres::Config,
    conn: std::sync::RwLock<Arc<T>>,
}

impl<T: Dialed> Redial<T> {
    pub(super) fn connect(config: &tokio_postgres::Config) -> Result<Self, StorageError> {
        Ok(Self {
            conn: std::sync::RwLock::new(Arc::new(T::open(config)?)),
            config: config.clone(),
        })
    }

    /// The current connection, reopened first if it has dropped.
    pub(super) fn get(&self) -> Result<Arc<T>, StorageError> {
        let current = self.conn.read().unwrap_or_else(|p| p.into_inner()).clone();
        if !current.client().is_closed() {
            return Ok(current);
        }
        let mut slot = self.conn.write().unwrap_or_else(|p| p.into_inner());
        if slot.client().is_closed() {
            tracing::warn!("a PostgreSQL connection dropped; reconnecting");
            *slot = Arc::new(T::open(&self.config)?);
        }
        Ok(slot.clone())
    }
}
