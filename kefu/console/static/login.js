"use strict";
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  const response = await fetch("/console/login", {
    method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
    body: JSON.stringify({username: document.getElementById("username").value,
                          password: document.getElementById("password").value}),
  });
  if (response.ok) { window.location.assign("/console"); return; }
  error.textContent = response.status === 401 ? "用户名或密码错误。Wrong username or password."
    : response.status === 429 ? "尝试次数过多，请稍后再试。Too many attempts; try again later."
    : "登录失败 Sign-in failed (" + response.status + ").";
});
