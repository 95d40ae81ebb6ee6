// The kitchen ticket prints itself once (the browser's print to the kitchen printer).
"use strict";
document.getElementById("print").addEventListener("click", () => window.print());
if (new URLSearchParams(location.search).has("print")) window.addEventListener("load", () => window.print());
