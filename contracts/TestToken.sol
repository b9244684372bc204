// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice An ERC-20 test token for the local demo chains (fuzzydice/chain/demo_deploy.py):
///         OpenZeppelin's ERC20 with the decimals chosen at deployment and the whole supply
///         minted to the deployer.
contract TestToken is ERC20 {
    uint8 private immutable _decimals;

    /// @param name_ the token's name, e.g. "Fuzzy USD"
    /// @param symbol_ its ticker, e.g. "fUSD"
    /// @param decimals_ what `decimals()` answers
    /// @param initialSupply the supply minted to msg.sender, in base units (already scaled by 10**decimals_)
    constructor(string memory name_, string memory symbol_, uint8 decimals_, uint256 initialSupply)
        ERC20(name_, symbol_)
    {
        _decimals = decimals_;
        _mint(msg.sender, initialSupply);
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
