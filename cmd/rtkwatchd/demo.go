package main

import (
	"context"
	"errors"
)

func cmdDemo(context.Context, *environment, []string) error { return errors.New("demo: not yet") }
