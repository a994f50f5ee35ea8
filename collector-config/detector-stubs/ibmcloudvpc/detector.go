// Package vpc stands in for the upstream IBM Cloud VPC resource detector, whose module the Go
// module proxy available to this build does not serve. The resourcedetection
// processor links every detector; this one reports that it is not included.
package vpc

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/sdk/resource"
)

// Option configures the detector; the stand-in accepts and ignores it.
type Option func()

// WithProtocol mirrors the upstream option so callers compile unchanged.
func WithProtocol(string) Option { return func() {} }

type detector struct{}

// NewResourceDetector returns a detector that always fails with a clear reason.
func NewResourceDetector(...Option) resource.Detector { return detector{} }

func (detector) Detect(context.Context) (*resource.Resource, error) {
	return nil, errors.New("the IBM Cloud VPC resource detector is not included in the ricecoder collector build")
}
