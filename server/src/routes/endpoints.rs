//! Every HTTP route that is not a console page is declared here with who may call it. The
//! router is built from the declarations, so a route cannot exist without one, and the
//! role × endpoint test walks the same list (`Routes::endpoints`).
//!
//! The declared access travels with the request; the `Caller` extractor, which handlers take
//! before any other input, checks `Access::Needs` against the caller's role. Routes open to
//! anonymous callers for public dists (`Access::PublicDistOr`) leave the decision to the
//! handler, which knows the dist.

use app::backend::AppState;
use app::model::Access;
use axum::handler::Handler;
use axum::routing::{self, MethodRouter};
use axum::{Extension, Router};
use http::Method;

/// One route: its method, its full path (parameters as `{name}`) and who may call it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: String,
    pub access: Access,
}

/// A router and the list of what it serves, built together. The device routes have a state
/// of their own (`DeviceApi`); the others share the `AppState`.
pub struct Routes<S = AppState> {
    router: Router<S>,
    endpoints: Vec<Endpoint>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Routes {
            router: Router::new(),
            endpoints: Vec::new(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub fn get<H, T>(self, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(Method::GET, path, access, routing::get(handler))
    }

    pub fn post<H, T>(self, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(Method::POST, path, access, routing::post(handler))
    }

    pub fn put<H, T>(self, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(Method::PUT, path, access, routing::put(handler))
    }

    pub fn delete<H, T>(self, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(Method::DELETE, path, access, routing::delete(handler))
    }

    /// A route whose method router carries its own layers (a body limit, say).
    pub fn add(
        mut self,
        method: Method,
        path: &str,
        access: Access,
        route: MethodRouter<S>,
    ) -> Self {
        // Only a permission needs checking by the `Caller` extractor; the device routes and
        // the other open ones go without the layer (each layer costs every request).
        let route = match access {
            Access::Needs(_) => route.route_layer(Extension(access)),
            _ => route,
        };
        self.router = self.router.route(path, route);
        self.endpoints.push(Endpoint {
            method,
            path: path.to_string(),
            access,
        });
        self
    }

    pub fn nest(mut self, prefix: &str, inner: Routes<S>) -> Self {
        self.router = self.router.nest(prefix, inner.router);
        self.endpoints
            .extend(inner.endpoints.into_iter().map(|e| Endpoint {
                path: format!("{prefix}{}", e.path),
                ..e
            }));
        self
    }

    /// Changes the router (a fallback, a layer on every route) without changing the list.
    pub fn map_router(mut self, f: impl FnOnce(Router<S>) -> Router<S>) -> Self {
        self.router = f(self.router);
        self
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    pub fn into_router(self) -> Router<S> {
        self.router
    }
}
