-- Argo CD health check for tagwatch.dev/TagWatch (docs/gitops.md). Written for the
-- libraries Argo CD gives a check from argocd-cm (base and table, no string library).
local hs = {status = "Progressing", message = "Waiting for the first poll"}
if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: not polling"
  return hs
end
if obj.status == nil then
  return hs
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed ~= generation then
  hs.message = "Waiting for generation " .. generation .. " to be polled"
  return hs
end
local ready = nil
for _, condition in ipairs(obj.status.conditions or {}) do
  if condition.type == "Stalled" and condition.status == "True" then
    hs.status = "Degraded"
    hs.message = condition.reason .. ": " .. condition.message
    return hs
  end
  if condition.type == "Reconciling" and condition.status == "True" then
    hs.message = condition.message
    return hs
  end
  if condition.type == "Ready" then
    ready = condition
  end
end
if ready == nil then
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
else
  hs.status = "Degraded"
  hs.message = ready.reason .. ": " .. ready.message
end
return hs
