//go:build !authz

package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (a *app) authorize(c echo.Context) error { return c.NoContent(http.StatusNotImplemented) }
func (a *app) decide(c echo.Context) error    { return c.NoContent(http.StatusNotImplemented) }
