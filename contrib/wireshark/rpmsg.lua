-- Wireshark dissector for rpmsg captures written by `rpmsg trace --pcapng` (link type
-- LINKTYPE_USER0 = 147). Each packet: a 4-byte capture header, then the rpmsg message as on
-- the wire: struct rpmsg_hdr (src, dst, reserved, len, flags; 16 bytes, little-endian) and the
-- payload; messages to address 53 of 40 bytes are name-service announcements
-- (char name[32], u32 addr, u32 flags: bit 0 = destroy).
--
-- Use:  wireshark -X lua_script:contrib/wireshark/rpmsg.lua capture.pcapng
--       tshark    -X lua_script:contrib/wireshark/rpmsg.lua -r capture.pcapng -V
-- or copy the file into ~/.local/lib/wireshark/plugins/.

local rpmsg = Proto("rpmsg", "Remote Processor Messaging")
local rpmsg_ns = Proto("rpmsg_ns", "rpmsg name service")

local directions = { [0] = "host -> remote (vring1)", [1] = "remote -> host (vring0)" }
local events = { [0] = "message", [1] = "dropped" }
local reasons = { [0] = "none", [1] = "no endpoint", [2] = "invalid length", [3] = "unusable buffer" }
local ns_flags = { [0] = "create", [1] = "destroy" }

local f = {
  version = ProtoField.uint8("rpmsg.capture.version", "Capture header version", base.DEC),
  direction = ProtoField.uint8("rpmsg.direction", "Direction", base.DEC, directions),
  event = ProtoField.uint8("rpmsg.event", "Event", base.DEC, events),
  reason = ProtoField.uint8("rpmsg.drop_reason", "Drop reason", base.DEC, reasons),
  src = ProtoField.uint32("rpmsg.src", "Source address", base.HEX),
  dst = ProtoField.uint32("rpmsg.dst", "Destination address", base.HEX),
  reserved = ProtoField.uint32("rpmsg.reserved", "Reserved", base.HEX),
  len = ProtoField.uint16("rpmsg.len", "Payload length", base.DEC),
  flags = ProtoField.uint16("rpmsg.flags", "Flags", base.HEX),
  data = ProtoField.bytes("rpmsg.data", "Payload"),
}
rpmsg.fields = { f.version, f.direction, f.event, f.reason, f.src, f.dst, f.reserved, f.len, f.flags, f.data }

local nf = {
  name = ProtoField.stringz("rpmsg_ns.name", "Service name"),
  addr = ProtoField.uint32("rpmsg_ns.addr", "Address", base.HEX),
  flags = ProtoField.uint32("rpmsg_ns.flags", "Flags", base.HEX, ns_flags, 0x1),
}
rpmsg_ns.fields = { nf.name, nf.addr, nf.flags }

local RPMSG_NS_ADDR = 53
local NS_MSG_SIZE = 40

function rpmsg.dissector(tvb, pinfo, tree)
  if tvb:len() < 4 then return 0 end
  pinfo.cols.protocol = "RPMSG"
  local root = tree:add(rpmsg, tvb(), "rpmsg")
  local cap = root:add(tvb(0, 4), "Capture header")
  cap:add(f.version, tvb(0, 1))
  cap:add(f.direction, tvb(1, 1))
  cap:add(f.event, tvb(2, 1))
  cap:add(f.reason, tvb(3, 1))
  local dir = tvb(1, 1):uint()
  local dropped = tvb(2, 1):uint() ~= 0
  if tvb:len() < 20 then
    pinfo.cols.info = "rpmsg (header not captured)"
    return tvb:len()
  end
  local src = tvb(4, 4):le_uint()
  local dst = tvb(8, 4):le_uint()
  local len = tvb(16, 2):le_uint()
  pinfo.cols.src = string.format("0x%x", src)
  pinfo.cols.dst = string.format("0x%x", dst)
  local hdr = root:add(tvb(4, 16), "Header")
  hdr:add_le(f.src, tvb(4, 4))
  hdr:add_le(f.dst, tvb(8, 4))
  hdr:add_le(f.reserved, tvb(12, 4))
  hdr:add_le(f.len, tvb(16, 2))
  hdr:add_le(f.flags, tvb(18, 2))
  local avail = tvb:len() - 20
  local info = string.format("%s 0x%x -> 0x%x len %d", dir == 0 and "TX" or "RX", src, dst, len)
  if avail > 0 then
    local n = math.min(avail, len)
    root:add(f.data, tvb(20, n))
    if dst == RPMSG_NS_ADDR and len == NS_MSG_SIZE and n == NS_MSG_SIZE then
      local ns = tree:add(rpmsg_ns, tvb(20, NS_MSG_SIZE), "rpmsg name service")
      ns:add(nf.name, tvb(20, 32))
      ns:add_le(nf.addr, tvb(52, 4))
      ns:add_le(nf.flags, tvb(56, 4))
      local what = (tvb(56, 4):le_uint() % 2 == 1) and "destroy" or "create"
      info = string.format("%s NS %s %s addr 0x%x", dir == 0 and "TX" or "RX", what, tvb(20, 32):stringz(), tvb(52, 4):le_uint())
    end
  end
  if dropped then info = info .. " [dropped: " .. (reasons[tvb(3, 1):uint()] or "?") .. "]" end
  pinfo.cols.info = info
  return tvb:len()
end

local encaps = wtap_encaps or wtap
DissectorTable.get("wtap_encap"):add(encaps.USER0, rpmsg)
