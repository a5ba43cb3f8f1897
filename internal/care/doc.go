// Package care is ordercare's domain: shops and their credentials, the
// canonical order event every source adapter produces, the order state that
// events are applied to, the closed set of domain errors, and the store
// interfaces the domain consumes. It imports nothing from infra.
package care
